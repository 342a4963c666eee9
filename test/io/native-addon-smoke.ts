// Entry point compiled by native-addon-embed.test.ts with `bun build --compile`: prints which Disk
// backend loads and checks one CRC32C through it. Not a test file itself.
import { createDisk } from '../../src/io/real/select-disk.ts';

const disk = createDisk('auto');
const crc = disk.crc32c(Buffer.from('123456789'));
console.log(JSON.stringify({ backend: disk.info.backend, reason: disk.info.reason, crc: crc.toString(16) }));
