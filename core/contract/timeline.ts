/**
 * The moments of an operation's life that explain where its time went, in the order they happen:
 * the `timeline` of its status. Each is the first time it was seen; a moment that does not apply
 * (no Job on the local runtime) or has not come yet is absent.
 *
 *   moment        written by     when
 *   accepted      dispatcher     the submission reached it (with the record)
 *   queued        dispatcher     the record was written, and its job added right after
 *   picked        executor       an executor claimed it
 *   jobCreated    kubernetes     the script's Job was created
 *   podScheduled  kubernetes     its pod was bound to a node
 *   imagePulled   kubernetes     the kubelet had the script's image (with how long its pull took)
 *   started       executor       the script started: its container runs, or its local process
 *   firstLine     executor       the script's first line of output
 *   scriptEnded   executor       the script's container or process ended
 *   recorded      executor       the outcome was recorded (or a cancel ended it while queued)
 *
 * The runtime moments are stamped with the executor's clock when it saw them, as every other is.
 */
import { Type, type Static } from '@sinclair/typebox';

export { MOMENTS, type Moment, type RunMoment } from './moments.js';

const at = (description: string) => Type.String({ format: 'date-time', description });

export const Timeline = Type.Object(
  {
    accepted: at('The submission reached the dispatcher.'),
    queued: at('Its record was written and its job added: it waits for an executor.'),
    picked: Type.Optional(at('An executor took it.')),
    jobCreated: Type.Optional(at("Kubernetes: the script's Job was created.")),
    podScheduled: Type.Optional(at('Kubernetes: its pod was bound to a node.')),
    imagePulled: Type.Optional(at("Kubernetes: the node had the script's image.")),
    imagePullSeconds: Type.Optional(
      Type.Number({ minimum: 0, description: 'How long the image pull took by the kubelet; 0 when the image was on the node already.' }),
    ),
    started: Type.Optional(at('The script started: its container, or its local process.')),
    firstLine: Type.Optional(at('The script wrote its first line of output.')),
    scriptEnded: Type.Optional(at("The script's container or process ended.")),
    recorded: Type.Optional(at('The outcome was recorded.')),
  },
  {
    description:
      'The moments that explain where the time went, each the first time it was seen (by the clock of the dispatcher or executor that saw it); ' +
      'those that do not apply (the Kubernetes ones on the local runtime) or have not come yet are absent.',
  },
);
export type Timeline = Static<typeof Timeline>;
