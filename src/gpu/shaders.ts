// WGSL sources live in the top-level `shaders/` folder. Only *how* they are read differs
// between environments (Vite's import.meta.glob in the browser, fs in Node); everything
// else (preprocessing, compiling, caching) is shared.

/** Returns the raw text of `shaders/<name>.wgsl`. */
export type ShaderSource = (name: string) => string;

export type Defines = Record<string, string | number | boolean>;

/**
 * A deliberately small preprocessor, for choices that WGSL override constants cannot
 * express (e.g. whole code paths for a feature map, array lengths used as types), and for
 * code several kernels share (WGSL has no modules).
 *
 *   #if NAME            (true when NAME is defined and not 0/false)
 *   #if NAME == VALUE   (string comparison after String())
 *   #elif … / #else / #endif   (nestable)
 *   ${NAME}             textual substitution of a define's value
 *   #include "other"    the text of shaders/other.wgsl, preprocessed with the same defines;
 *                       each file at most once per shader (later includes of it are empty)
 *
 * Directive lines become empty lines, and every output line remembers which file and line
 * it came from, so compiler messages point into the right `.wgsl` file.
 */
export function preprocess(src: string, defines: Defines = {}, name = 'shader'): string {
  return expand(src, defines, name, null, new Set([name])).lines.join('\n');
}

/** Where an output line came from. */
export interface SourceLine {
  file: string;
  line: number;
}

/** shaders/<name>.wgsl, preprocessed, with includes resolved through `source`. */
export function expandShader(name: string, source: ShaderSource, defines: Defines = {}): { code: string; origin: SourceLine[] } {
  const { lines, origin } = expand(source(name), defines, name, source, new Set([name]));
  return { code: lines.join('\n'), origin };
}

function expand(src: string, defines: Defines, name: string, source: ShaderSource | null, included: Set<string>): { lines: string[]; origin: SourceLine[] } {
  const out: string[] = [];
  const origin: SourceLine[] = [];
  const emit = (text: string, line: number) => {
    out.push(text);
    origin.push({ file: name, line });
  };
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
      emit('', lineNo);
    } else if (t.startsWith('#elif ')) {
      const f = stack[stack.length - 1];
      if (!f) throw new Error(`${name}.wgsl:${lineNo}: #elif without #if`);
      const c = f.parentActive && !f.taken && evalCond(t.slice(6), lineNo);
      f.active = c;
      f.taken = f.taken || c;
      emit('', lineNo);
    } else if (t === '#else') {
      const f = stack[stack.length - 1];
      if (!f) throw new Error(`${name}.wgsl:${lineNo}: #else without #if`);
      f.active = f.parentActive && !f.taken;
      f.taken = true;
      emit('', lineNo);
    } else if (t === '#endif') {
      if (!stack.pop()) throw new Error(`${name}.wgsl:${lineNo}: #endif without #if`);
      emit('', lineNo);
    } else if (t.startsWith('#include')) {
      const m = t.match(/^#include\s+"([A-Za-z0-9_]+)"\s*(?:\/\/.*)?$/);
      if (!m) throw new Error(`${name}.wgsl:${lineNo}: bad #include, expected #include "name"`);
      if (!isActive() || included.has(m[1])) {
        emit('', lineNo);
        continue;
      }
      if (!source) throw new Error(`${name}.wgsl:${lineNo}: #include "${m[1]}" needs a shader source`);
      included.add(m[1]);
      let text: string;
      try {
        text = source(m[1]);
      } catch (e) {
        throw new Error(`${name}.wgsl:${lineNo}: #include "${m[1]}": ${(e as Error).message}`);
      }
      const sub = expand(text, defines, m[1], source, included);
      out.push(...sub.lines);
      origin.push(...sub.origin);
    } else if (isActive()) {
      emit(
        line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => {
          if (!(k in defines)) throw new Error(`${name}.wgsl:${lineNo}: \${${k}} is not defined`);
          return String(defines[k]);
        }),
        lineNo,
      );
    } else {
      emit('', lineNo);
    }
  }
  if (stack.length) throw new Error(`${name}.wgsl: unterminated #if`);
  return { lines: out, origin };
}
