/** Finds the API and its token for the client commands. */
import type { Config } from '../../core/config.js';
import { apiClient, type ApiClient } from '../api-client.js';
import { savedToken } from '../api-token.js';
import { CliError, EXIT } from '../exit-codes.js';

export async function connectClient(config: Config): Promise<ApiClient> {
  const token = config.apiTokens[0] ?? (await savedToken(config.stateDir));
  if (!token) {
    throw new CliError(
      `no API token: set KUBE_WORKER_API_TOKEN, or run kube-worker start here first (it saves one under ${config.stateDir})`,
      EXIT.unauthorized,
    );
  }
  return apiClient(config.serverUrl, token);
}

/** A process exit status for an operation's exit code: negative codes wrap as a shell shows them. */
export const processExitCode = (exitCode: number): number => exitCode & 0xff;
