import { ConfigError, resolveServeConfig } from './config.js';
import { startServer } from './server.js';
import { keysCommand } from './keys-command.js';
import { StoreUnavailableError } from './store/store.js';

const USAGE = `Usage: tessera <command> [options]

Commands:
  serve      Start the Backend API server
    --host <host>        Address to listen on (env TESSERA_HOST, default 127.0.0.1)
    --port <port>        Port to listen on (env TESSERA_PORT, default 7600)
    --data-dir <dir>     Where the database and key files live (env TESSERA_DATA_DIR, default ./.tessera)
    --public-url <url>   URL clients use to reach this server; JWTs carry it as iss (env TESSERA_PUBLIC_URL)
    --database-url <url> postgres://… selects PostgreSQL, shared by several instances (env DATABASE_URL);
                         without it the store is SQLite in the data dir. Pool size: env TESSERA_PG_POOL_SIZE (10)
  keys rotate  Make a new JWT signing key; the previous one stays in the JWKS until its tokens expire
  keys public  Print the current JWT public key as PEM (for networkless verification with jwtKey)
    --url <url>          Ask a running server (required while it serves a SQLite data dir: it holds the lock);
                         rotate authenticates with TESSERA_SECRET_KEY or <data-dir>/secret-key
    --data-dir <dir>, --database-url <url>   Without --url: open the instance's store directly
  help       Show this text

Environment: TESSERA_SECRET_KEY, TESSERA_MASTER_KEY, TESSERA_LOG_LEVEL, TESSERA_SQLITE_SYNCHRONOUS (see README).
`;

async function keys(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action !== 'rotate' && action !== 'public') {
    process.stderr.write(`Unknown keys action: ${action ?? '(none)'}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await keysCommand(action, rest);
}

async function serve(argv: string[]): Promise<void> {
  const config = resolveServeConfig(argv, process.env);
  const server = await startServer(config);
  if (server.generatedSecretKeyFile) {
    // Shown once, on the start that created it; afterwards it lives only in the 0600 file.
    process.stdout.write(
      `Generated the instance secret key (stored in ${server.generatedSecretKeyFile}):\n  ${server.secretKey}\n`,
    );
  }
  process.stdout.write(`Tessera listening on ${server.url} (instance ${server.instanceId})\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal} received: finishing in-flight requests\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'keys':
        return await keys(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return;
      default:
        process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`);
        process.exitCode = 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tessera: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof StoreUnavailableError) {
      process.stderr.write(`tessera: cannot reach the database (${error.reason}); is PostgreSQL running at the --database-url?\n`);
      process.exitCode = 1;
      return;
    }
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      process.stderr.write(`tessera: the address is already in use\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
