import { ConfigError, resolveServeConfig } from './config.js';
import { startServer } from './server.js';

const USAGE = `Usage: tessera <command> [options]

Commands:
  serve      Start the Backend API server
    --host <host>        Address to listen on (env TESSERA_HOST, default 127.0.0.1)
    --port <port>        Port to listen on (env TESSERA_PORT, default 7600)
    --data-dir <dir>     Where the database and key files live (env TESSERA_DATA_DIR, default ./.tessera)
  help       Show this text
`;

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
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      process.stderr.write(`tessera: the address is already in use\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
