/** Command-line options of the CLIs, parsed strictly (node:util parseArgs): an unknown option is a usage error. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<const O extends Options>(argv: readonly string[], options: O, usageError: (message: string) => Error) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    // parseArgs throws TypeErrors (ERR_PARSE_ARGS_*) for unknown options and missing values.
    throw usageError(err instanceof Error ? err.message : 'invalid arguments');
  }
}

/** parseOptions for a CLI that also takes operands (files, folders): the values and the positionals. */
export function parseOptionsAndPositionals<const O extends Options>(
  argv: readonly string[],
  options: O,
  usageError: (message: string) => Error,
) {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options });
    return { values, positionals };
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : 'invalid arguments');
  }
}
