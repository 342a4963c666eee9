/** Record batch v2: header access and in-place rewrite, record reading and writing, control markers, delete horizons. */
export * from './header.ts';
export * from './records.ts';
export * from './builder.ts';
export * from './control.ts';
export * from './delete-horizon.ts';
