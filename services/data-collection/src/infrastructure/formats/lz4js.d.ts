// lz4js ships no type declarations; these cover the two functions the Arrow codec uses.
declare module "lz4js" {
  /** Compresses into one LZ4 frame. */
  export function compress(source: Uint8Array, maxSize?: number): Uint8Array;
  /** Decompresses one LZ4 frame. */
  export function decompress(source: Uint8Array, maxSize?: number): Uint8Array;
}
