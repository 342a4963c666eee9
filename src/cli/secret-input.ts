/**
 * A secret for a CLI command (a password): from a file named by an option, else from an environment
 * variable, never from an argument (other users of the machine can read arguments). One trailing
 * newline of the file is dropped. Throws an Error naming the option or variable (a usage mistake).
 */
import { readFileSync } from 'node:fs';

export function readSecret(what: string, option: string, file: string | undefined, envName: string, env: NodeJS.ProcessEnv = process.env): string {
  let text: string | undefined;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${option} ${file}: ${(err as Error).message}`);
    }
  } else {
    text = env[envName];
  }
  if (text === undefined) throw new Error(`give the ${what} with ${option} FILE or ${envName}`);
  if (text === '') throw new Error(`the ${what} is empty`);
  return text;
}
