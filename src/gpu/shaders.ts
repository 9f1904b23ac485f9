// WGSL sources live in the top-level `shaders/` folder. Only *how* they are read differs
// between environments (Vite's import.meta.glob in the browser, fs in Node); everything
// else (preprocessing, compiling, caching) is shared.

/** Returns the raw text of `shaders/<name>.wgsl`. */
export type ShaderSource = (name: string) => string;

export type Defines = Record<string, string | number | boolean>;

/**
 * A deliberately small preprocessor, for choices that WGSL override constants cannot
 * express (e.g. whole code paths for a feature map, array lengths used as types).
 *
 *   #if NAME            (true when NAME is defined and not 0/false)
 *   #if NAME == VALUE   (string comparison after String())
 *   #elif … / #else / #endif   (nestable)
 *   ${NAME}             textual substitution of a define's value
 *
 * Directive lines are replaced by empty lines so that compiler line numbers still match
 * the `.wgsl` file.
 */
export function preprocess(src: string, defines: Defines = {}, name = 'shader'): string {
  const out: string[] = [];
  // Stack of frames: active = this branch emits; taken = some branch of this #if already emitted.
  const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
  const isActive = () => (stack.length === 0 ? true : stack[stack.length - 1].active);
  const evalCond = (expr: string, lineNo: number): boolean => {
    const m = expr.trim().match(/^([A-Za-z_][A-Za-z0-9_]*)\s*(?:(==|!=)\s*(\S+))?$/);
    if (!m) throw new Error(`${name}.wgsl:${lineNo}: bad #if expression '${expr.trim()}'`);
    const [, key, op, rhs] = m;
    const val = defines[key];
    if (!op) return val !== undefined && val !== false && val !== 0 && val !== '0';
    const eq = val !== undefined && String(val) === rhs;
    return op === '==' ? eq : !eq;
  };
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    const lineNo = i + 1;
    if (t.startsWith('#if ')) {
      const parentActive = isActive();
      const c = parentActive && evalCond(t.slice(4), lineNo);
      stack.push({ active: c, taken: c, parentActive });
      out.push('');
    } else if (t.startsWith('#elif ')) {
      const f = stack[stack.length - 1];
      if (!f) throw new Error(`${name}.wgsl:${lineNo}: #elif without #if`);
      const c = f.parentActive && !f.taken && evalCond(t.slice(6), lineNo);
      f.active = c;
      f.taken = f.taken || c;
      out.push('');
    } else if (t === '#else') {
      const f = stack[stack.length - 1];
      if (!f) throw new Error(`${name}.wgsl:${lineNo}: #else without #if`);
      f.active = f.parentActive && !f.taken;
      f.taken = true;
      out.push('');
    } else if (t === '#endif') {
      if (!stack.pop()) throw new Error(`${name}.wgsl:${lineNo}: #endif without #if`);
      out.push('');
    } else if (isActive()) {
      out.push(
        line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => {
          if (!(k in defines)) throw new Error(`${name}.wgsl:${lineNo}: \${${k}} is not defined`);
          return String(defines[k]);
        }),
      );
    } else {
      out.push('');
    }
  }
  if (stack.length) throw new Error(`${name}.wgsl: unterminated #if`);
  return out.join('\n');
}
