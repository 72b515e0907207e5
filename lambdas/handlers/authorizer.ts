/**
 * The API Gateway REQUEST authorizer (identity source: the Authorization header): checks the credential
 * with the functions' own Authenticator and allows the whole API, so API Gateway may cache the result
 * per header for every route; each function then checks the route's scope from the context
 * (lambdas/auth/authorizer-context.ts). API Gateway, "Use API Gateway Lambda authorizers":
 * throwing "Unauthorized" answers 401 (gateway response UNAUTHORIZED); any other error answers
 * AUTHORIZER_FAILURE (500 unless the API maps it), which is what "cannot check now" is: fail closed.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthenticator, type Authenticator } from '../auth/authenticate';
import { toAuthorizerContext } from '../auth/authorizer-context';
import type { Config } from '../config';
import { UnauthorizedError } from '../dicomweb/errors';
import type { ClientStore, ShareLinkStore } from '../storage/ports';
import { functionServices } from './function-services';

export interface AuthorizerServices {
  readonly config: Config;
  readonly clientStore?: ClientStore;
  readonly shareLinkStore?: ShareLinkStore;
}

/** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*\/*`: every method and path of the stage. */
export function wholeApiArn(methodArn: string): string {
  const parts = methodArn.split(':');
  const [apiId, stage] = (parts[5] ?? '').split('/');
  if (parts.length !== 6 || parts[2] !== 'execute-api' || !apiId || !stage) throw new Error(`unexpected methodArn ${methodArn}`);
  return `${parts.slice(0, 5).join(':')}:${apiId}/${stage}/*/*`;
}

/** The Authorization header, whatever case the client wrote its name in. */
function authorizationOf(event: APIGatewayRequestAuthorizerEvent): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) if (name.toLowerCase() === 'authorization') return value;
  return undefined;
}

export function authorizerHandler(getServices: () => AuthorizerServices) {
  let authenticator: Authenticator | undefined;
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const services = getServices();
    authenticator ??= createAuthenticator(services.config, { clientStore: services.clientStore, shareLinkStore: services.shareLinkStore });
    try {
      const principal = await authenticator.authenticate(authorizationOf(event));
      return {
        principalId: principal.principal,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) }],
        },
        context: { ...toAuthorizerContext(principal) },
      };
    } catch (error) {
      // The reason, never the credential: the messages of lambdas/auth never quote it.
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof UnauthorizedError) {
        console.log(JSON.stringify({ level: 'info', decision: 'unauthorized', reason }));
        throw new Error('Unauthorized');
      }
      console.error(JSON.stringify({ level: 'error', decision: 'cannot check the credential', reason }));
      throw new Error('the credential cannot be checked now');
    }
  };
}

/** Nothing of the archive but the configuration and, with CLIENTS_TABLE_NAME, the API key clients and share links (functionServices). */
export const handler = authorizerHandler(functionServices(() => ({})));
