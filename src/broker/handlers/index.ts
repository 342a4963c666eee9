/** Every implemented Kafka API, by key. The router refuses keys missing here even if advertised. */
import type { HandlerTable } from '../handler.ts';
import { produce } from './00-produce.ts';
import { fetch } from './01-fetch.ts';
import { listOffsets } from './02-list-offsets.ts';
import { metadata } from './03-metadata.ts';
import { apiVersions } from './18-api-versions.ts';

export const HANDLERS: HandlerTable = {
  0: produce,
  1: fetch,
  2: listOffsets,
  3: metadata,
  18: apiVersions,
};
