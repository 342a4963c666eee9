/** Process exit codes of every command: 0 success, 1 runtime failure, 2 bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE_CODE = 2;
