// Builds the bytes of a kernel's uniform `Params` struct. WGSL structs made only of
// 4-byte scalars (u32, i32, f32) have no padding, so fields are written in order.
export class Params {
  private view = new DataView(new ArrayBuffer(256));
  private offset = 0;

  private grow() {
    const next = new DataView(new ArrayBuffer(this.view.byteLength * 2));
    new Uint8Array(next.buffer).set(new Uint8Array(this.view.buffer));
    this.view = next;
  }
  u32(v: number): this {
    if (this.offset + 4 > this.view.byteLength) this.grow();
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`Params.u32: ${v} is not a u32`);
    this.view.setUint32(this.offset, v, true);
    this.offset += 4;
    return this;
  }
  i32(v: number): this {
    if (this.offset + 4 > this.view.byteLength) this.grow();
    this.view.setInt32(this.offset, v, true);
    this.offset += 4;
    return this;
  }
  f32(v: number): this {
    if (this.offset + 4 > this.view.byteLength) this.grow();
    this.view.setFloat32(this.offset, v, true);
    this.offset += 4;
    return this;
  }
  /** The struct's bytes, padded to 16 (uniform buffer binding sizes must be 16-byte multiples). */
  bytes(): Uint8Array {
    const n = Math.max(16, Math.ceil(this.offset / 16) * 16);
    return new Uint8Array(this.view.buffer, 0, n).slice();
  }
}

export const params = () => new Params();
