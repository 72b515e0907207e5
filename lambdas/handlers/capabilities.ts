/** Retrieve Capabilities (PS3.18 8.9): OPTIONS on the service root and on every resource. */
import { dicomwebRoutes } from '../http/routes';
import { capabilityTree, negotiateCapabilities, toWadl, WADL } from '../dicomweb/capabilities';
import { functionServices } from './function-services';
import { dicomwebHandler, type Operations } from '../http/middleware';

export const operations: Operations<'capabilities', object> = {
  RetrieveCapabilities: async (req) => {
    const type = negotiateCapabilities(req.headers.accept);
    const tree = capabilityTree(dicomwebRoutes, req.resource);
    const body =
      type === WADL
        ? toWadl(tree, req.baseUrl, req.path)
        : JSON.stringify({ base: `${req.baseUrl}${req.path === '/' ? '' : req.path}`, resource: tree });
    return { status: 200, headers: { 'Content-Type': type }, body };
  },
};

/** No storage: the description comes from the route table alone. */
export const handler = dicomwebHandler(
  'capabilities',
  operations,
  functionServices(() => ({})),
);
