/** DescribeCluster (KIP-700): the cluster id, controller and brokers, without any topic metadata. */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { throwIfError } from './kafka-error.ts';
import type { BrokerInfo } from './types.ts';

export interface ClusterDescription {
  clusterId: string;
  /** -1 when the cluster has no controller right now. */
  controllerId: number;
  brokers: BrokerInfo[];
}

export async function describeCluster(core: ClientCore): Promise<ClusterDescription> {
  return core.retry(async () => {
    const { body } = await core.request('any', API_KEYS.DescribeCluster, () => ({ includeClusterAuthorizedOperations: false, endpointType: 1 }));
    throwIfError(body.errorCode, 'describe cluster', body.errorMessage);
    return {
      clusterId: body.clusterId,
      controllerId: body.controllerId,
      brokers: body.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
    };
  });
}
