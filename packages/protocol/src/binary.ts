// The byte reader and writer every binary codec of the protocol is built on, so each codec states only its
// layout.
import { crc32 } from './crc32.ts'
import { ProtocolError } from './errors.ts'
import { float16Bits, float16Value } from './float16.ts'
import { platform } from './platform.ts'

// Shared plumbing of the two binary formats. Both are little-endian, keep every array 4-byte aligned (so a
// decoder can view floats in place of copying them one by one), and end with a CRC-32 of all bytes before it.

const NAME = /^[a-z][a-z0-9_]{0,62}$/
const encoder = new platform.TextEncoder()
const decoder = new platform.TextDecoder('utf-8', { fatal: true })

const pad4 = (n: number): number => (4 - (n % 4)) % 4

/** Grows as it is written; `finish()` appends the checksum and returns exactly the bytes written. */
export class ByteWriter {
  private buf = new Uint8Array(1024)
  private view = new DataView(this.buf.buffer)
  private at = 0

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.at + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.at))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(x: number): void {
    this.reserve(1)
    this.view.setUint8(this.at, x)
    this.at += 1
  }
  u16(x: number): void {
    this.reserve(2)
    this.view.setUint16(this.at, x, true)
    this.at += 2
  }
  u32(x: number): void {
    this.reserve(4)
    this.view.setUint32(this.at, x, true)
    this.at += 4
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }
  align4(): void {
    const n = pad4(this.at)
    this.reserve(n)
    this.buf.fill(0, this.at, this.at + n)
    this.at += n
  }
  u32s(xs: Uint32Array): void {
    this.reserve(xs.length * 4)
    for (let i = 0; i < xs.length; i++) this.view.setUint32(this.at + 4 * i, xs[i]!, true)
    this.at += xs.length * 4
  }
  f32s(xs: Float32Array): void {
    this.reserve(xs.length * 4)
    for (let i = 0; i < xs.length; i++) this.view.setFloat32(this.at + 4 * i, xs[i]!, true)
    this.at += xs.length * 4
  }
  /** Float16 (rounded toward zero, see float16.ts), then zero padding to 4 bytes. */
  f16s(xs: Float32Array): void {
    this.reserve(xs.length * 2)
    for (let i = 0; i < xs.length; i++) this.view.setUint16(this.at + 2 * i, float16Bits(xs[i]!), true)
    this.at += xs.length * 2
    this.align4()
  }
  /** A tensor name: u8 length, ASCII `[a-z][a-z0-9_]*`, zero padding to 4 bytes. */
  name(name: string): void {
    if (!NAME.test(name))
      throw new ProtocolError('bad_tensor', `tensor name must match ${NAME}, got ${JSON.stringify(name)}`)
    this.u8(name.length)
    this.bytes(encoder.encode(name))
    this.align4()
  }
  finish(): Uint8Array<ArrayBuffer> {
    const body = this.buf.subarray(0, this.at)
    const sum = crc32(body)
    this.u32(sum)
    return this.buf.slice(0, this.at)
  }
}

/** Reads with bounds checks; every overrun is a `truncated` ProtocolError naming what was being read. */
export class ByteReader {
  private readonly view: DataView
  private at = 0
  private readonly end: number

  /** Checks the trailing CRC-32 first, so nothing below reads bytes that were damaged in transit. */
  constructor(
    private readonly bytes: Uint8Array,
    what: string,
  ) {
    if (bytes.length < 8) throw new ProtocolError('truncated', `${what}: ${bytes.length} bytes is too short`)
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.end = bytes.length - 4
    const stored = this.view.getUint32(this.end, true)
    const actual = crc32(bytes.subarray(0, this.end))
    if (stored !== actual) {
      throw new ProtocolError(
        'checksum',
        `${what}: checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): truncated or corrupted`,
      )
    }
  }

  get offset(): number {
    return this.at
  }
  get remaining(): number {
    return this.end - this.at
  }

  private need(n: number, field: string): void {
    if (n > this.end - this.at) {
      throw new ProtocolError(
        'truncated',
        `${field}: needs ${n} bytes at offset ${this.at}, ${this.end - this.at} left`,
      )
    }
  }
  u8(field: string): number {
    this.need(1, field)
    return this.view.getUint8(this.at++)
  }
  u16(field: string): number {
    this.need(2, field)
    const x = this.view.getUint16(this.at, true)
    this.at += 2
    return x
  }
  u32(field: string): number {
    this.need(4, field)
    const x = this.view.getUint32(this.at, true)
    this.at += 4
    return x
  }
  bytesOf(n: number, field: string): Uint8Array {
    this.need(n, field)
    const out = this.bytes.slice(this.at, this.at + n)
    this.at += n
    return out
  }
  skipPadding(field: string): void {
    const n = pad4(this.at)
    this.need(n, field)
    this.at += n
  }
  u32s(count: number, field: string): Uint32Array {
    this.need(count * 4, field)
    const out = new Uint32Array(count)
    for (let i = 0; i < count; i++) out[i] = this.view.getUint32(this.at + 4 * i, true)
    this.at += count * 4
    return out
  }
  f32s(count: number, field: string): Float32Array {
    this.need(count * 4, field)
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(this.at + 4 * i, true)
    this.at += count * 4
    return out
  }
  /** Float16 values widened to float32 (exactly), then the padding to 4 bytes. */
  f16s(count: number, field: string): Float32Array {
    this.need(count * 2, field)
    const out = new Float32Array(count)
    for (let i = 0; i < count; i++) out[i] = float16Value(this.view.getUint16(this.at + 2 * i, true))
    this.at += count * 2
    this.skipPadding(`${field} padding`)
    return out
  }
  name(field: string): string {
    const length = this.u8(`${field} length`)
    const raw = this.bytesOf(length, field)
    this.skipPadding(`${field} padding`)
    const name = decodeUtf8(raw, field)
    if (!NAME.test(name))
      throw new ProtocolError('bad_tensor', `${field} ${JSON.stringify(name)} is not a tensor name`)
    return name
  }
  /** Every byte before the checksum must have been read: anything else is a framing error. */
  done(what: string): void {
    if (this.at !== this.end) {
      throw new ProtocolError(
        'trailing_bytes',
        `${what}: ${this.end - this.at} unexpected bytes after the last tensor`,
      )
    }
  }
}

export function decodeUtf8(raw: Uint8Array, field: string): string {
  try {
    return decoder.decode(raw)
  } catch (cause) {
    throw new ProtocolError('bad_header', `${field} is not valid UTF-8`, { cause })
  }
}

export const encodeUtf8 = (s: string): Uint8Array => encoder.encode(s)

const hex = (x: number): string => `0x${x.toString(16).padStart(8, '0')}`

/**
 * Reads and checks the 8-byte preamble common to the formats: magic, format version (one of `versions`),
 * tensor count.
 */
export function readPreamble(
  reader: ByteReader,
  magic: number,
  versions: number | readonly number[],
  what: string,
): { tensorCount: number; version: number } {
  const got = reader.u32('magic')
  if (got !== magic)
    throw new ProtocolError('bad_magic', `${what}: wrong magic ${hex(got)}, expected ${hex(magic)}`)
  const version = reader.u16('format version')
  const known = typeof versions === 'number' ? [versions] : versions
  if (!known.includes(version)) {
    throw new ProtocolError(
      'unsupported_version',
      `${what}: format version ${version} is not supported (expected ${known.join(' or ')})`,
    )
  }
  return { tensorCount: reader.u16('tensor count'), version }
}

export function checkFinite(values: Float32Array, field: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new ProtocolError('non_finite', `${field}: value ${values[i]} at index ${i} is not finite`)
    }
  }
}

export function checkU32(x: number, field: string): void {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
    throw new ProtocolError('bad_header', `${field} must be an integer in 0..2^32-1, got ${x}`)
  }
}
