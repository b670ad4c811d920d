/** A script pod as the watch reports it, for the supervision's tests: its phase and its containers' states. */
import type { V1ContainerState, V1Pod } from '@kubernetes/client-node';
import { FETCH_CONTAINER, SCRIPT_CONTAINER } from '../../../executor/kubernetes/names.js';

export const POD = 'kw-a-1';

export const pod = (phase: string, script?: V1ContainerState, fetch?: V1ContainerState): V1Pod => ({
  metadata: { name: POD },
  status: {
    phase,
    ...(fetch ? { initContainerStatuses: [{ name: FETCH_CONTAINER, image: 'kw', imageID: '', ready: false, restartCount: 0, state: fetch }] } : {}),
    ...(script ? { containerStatuses: [{ name: SCRIPT_CONTAINER, image: 'x', imageID: '', ready: false, restartCount: 0, state: script }] } : {}),
  },
});
