/**
 * The configuration module's public surface. Everything else in src/config is internal.
 */
export type * from './broker-config.ts';
export { ConfigError, describeOrigin, type ConfigProblem, type Origin } from './config-error.ts';
export { configOrigin, flagOverrides, inactiveKeysSet, loadConfig, type LoadOptions } from './load-config.ts';
export { printConfig } from './print-config.ts';
export { CLI_FLAGS, FEATURES, KEYS, KEY_INFO, SCHEMA, envName, type CliFlag, type Feature, type KeyInfo } from './schema.ts';
export { validateFiles } from './validate-files.ts';
export { isWildcardHost } from './cross-checks.ts';
export { enabledAuthenticationMethods } from './broker-config.ts';
