/**
 * Shapes shared by the hand-written primitives and the generated codecs.
 */

/** A tagged field the decoder did not know: kept verbatim (a view into the frame) and re-emitted on encode. */
export interface TaggedField {
  readonly tag: number;
  readonly data: Buffer;
}

declare const recordsBrand: unique symbol;

/**
 * The bytes of a `records` field as decoded: a view into the request frame (no copy). It stays valid
 * only as long as the frame's memory is not reused; a caller that keeps it past the request must copy it.
 * The brand lets encoder input types accept a list of buffers here, and only here.
 */
export type RecordsView = Buffer & { readonly [recordsBrand]: true };

/** What an encoder accepts for a `records` field: one buffer, or a list written back to back by reference. */
export type RecordsInput = Uint8Array | readonly Uint8Array[] | null;

/**
 * The value an encoder accepts for a decoded type T: every field may be omitted (the schema default is
 * written), arrays may be readonly, and `records` fields may be a list of buffers. Decoders always return
 * the complete T.
 */
export type Input<T> = T extends RecordsView
  ? RecordsInput
  : T extends Uint8Array
    ? Uint8Array
    : T extends TaggedField
      ? TaggedField
    : T extends string | number | bigint | boolean | null | undefined
      ? T
      : T extends readonly (infer E)[]
        ? readonly Input<E>[]
        : { [K in keyof T]?: Input<T[K]> };
