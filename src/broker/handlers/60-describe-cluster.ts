/** DescribeCluster (60), versions 0-1 (DescribeClusterRequest.json): the brokers and the controller from the cluster view. */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { authorizedOperations, Resource } from '../access.ts';
import { CLUSTER_RESOURCE } from '../../metadata/acls.ts';

const BROKERS_ENDPOINT = 1;

export const describeCluster: Handler<60> = (ctx, request, info) => {
  const clusterAuthorizedOperations = authorizedOperations(ctx, info, request.includeClusterAuthorizedOperations, Resource.CLUSTER, CLUSTER_RESOURCE);
  const base = { throttleTimeMs: 0, endpointType: request.endpointType, clusterAuthorizedOperations };
  if (request.endpointType !== BROKERS_ENDPOINT) {
    return { ...base, errorCode: KafkaErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Only broker endpoints are served.', clusterId: ctx.metadata.state.clusterId, controllerId: -1, brokers: [] };
  }
  return {
    ...base,
    errorCode: 0,
    errorMessage: null,
    clusterId: ctx.metadata.state.clusterId,
    controllerId: ctx.cluster.controllerId(),
    brokers: ctx.cluster.brokers().map((b) => ({ brokerId: b.id, host: b.host, port: b.port, rack: b.rack })),
  };
};
