// Type declarations for the two CommonJS compression libraries, which ship none.
declare module 'lz4js' {
  const lz4: {
    /** Compresses `src` into one LZ4 frame. */
    compress(src: Uint8Array, maxSize?: number): Uint8Array;
  };
  export default lz4;
}

declare module 'snappyjs' {
  const snappy: {
    /** Raw snappy (no framing); returns the same kind of array it was given. */
    compress<T extends Uint8Array>(data: T): T;
    /** Throws when the declared length exceeds `maxLength` or the stream is invalid. */
    uncompress<T extends Uint8Array>(data: T, maxLength?: number): T;
  };
  export default snappy;
}
