/**
 * The protobuf schema of the Mesos v1 scheduler API messages Relay.Mesos uses, written in code as
 * a protobufjs JSON descriptor (packages `mesos.v1` and `mesos.v1.scheduler`).
 *
 * Facts (field numbers, labels, enum values, defaults) are taken from the canonical Apache Mesos
 * files `include/mesos/v1/mesos.proto` and `include/mesos/v1/scheduler/scheduler.proto` (apache/mesos
 * at commit c1b42f79d157aa900be5cbb0c1023f1479962aa7). The schema is proto2 like the originals:
 * `required` and `optional` fields with explicit presence, unpacked repeated fields, and the proto2
 * `[default = ...]` values recorded as field options.
 *
 * Only the messages and fields listed in `messages.ts` are described; a field of the real API
 * that is not described here is skipped when decoding (both content types) and never sent. Enums
 * are complete, so every value a master may send is known.
 * @module
 */

import type protobuf from "protobufjs";

type FieldJson = {
  edition: "proto2";
  id: number;
  type: string;
  rule?: "required" | "repeated";
  options?: Record<string, unknown>;
};
type TypeJson = { fields: Record<string, FieldJson>; nested?: Record<string, NestedJson> };
type EnumJson = { edition?: "proto2"; values: Record<string, number> };
type NestedJson = TypeJson | EnumJson | { nested: Record<string, NestedJson> };

const withDefault = (field: FieldJson, defaultValue: unknown): FieldJson =>
  defaultValue === undefined ? field : { ...field, options: { default: defaultValue } };
// protobufjs treats fields and enums read from a JSON descriptor as proto3 (implicit presence,
// packed repeated fields) unless told otherwise, so every field and enum says "proto2".
const required = (type: string, id: number, defaultValue?: unknown): FieldJson =>
  withDefault({ edition: "proto2", rule: "required", type, id }, defaultValue);
const optional = (type: string, id: number, defaultValue?: unknown): FieldJson =>
  withDefault({ edition: "proto2", type, id }, defaultValue);
const repeated = (type: string, id: number): FieldJson => ({
  edition: "proto2",
  rule: "repeated",
  type,
  id,
});

/** `message XxxID { required string value = 1; }` */
const idMessage = (): TypeJson => ({ fields: { value: required("string", 1) } });

const V1 = "mesos.v1";

/** Messages and enums of package `mesos.v1` (mesos.proto). */
const mesosV1: Record<string, NestedJson> = {
  FrameworkID: idMessage(),
  OfferID: idMessage(),
  AgentID: idMessage(),
  TaskID: idMessage(),
  ExecutorID: idMessage(),

  ResourceProviderID: idMessage(),

  Address: {
    fields: {
      hostname: optional("string", 1),
      ip: optional("string", 2),
      port: required("int32", 3),
    },
  },

  MasterInfo: {
    fields: {
      id: required("string", 1),
      ip: required("uint32", 2),
      port: required("uint32", 3, 5050),
      pid: optional("string", 4),
      hostname: optional("string", 5),
      version: optional("string", 6),
      address: optional(`${V1}.Address`, 7),
    },
  },

  FrameworkInfo: {
    fields: {
      user: required("string", 1),
      name: required("string", 2),
      id: optional(`${V1}.FrameworkID`, 3),
      failover_timeout: optional("double", 4, 0),
      checkpoint: optional("bool", 5, false),
      role: optional("string", 6, "*"), // deprecated in favour of `roles`
      roles: repeated("string", 12),
      hostname: optional("string", 7),
      principal: optional("string", 8),
      capabilities: repeated(`${V1}.FrameworkInfo.Capability`, 10),
      labels: optional(`${V1}.Labels`, 11),
    },
    nested: {
      Capability: {
        fields: { type: optional(`${V1}.FrameworkInfo.Capability.Type`, 1) },
        nested: {
          Type: {
            edition: "proto2",
            values: {
              UNKNOWN: 0,
              REVOCABLE_RESOURCES: 1,
              TASK_KILLING_STATE: 2,
              GPU_RESOURCES: 3,
              SHARED_RESOURCES: 4,
              PARTITION_AWARE: 5,
              MULTI_ROLE: 6,
              RESERVATION_REFINEMENT: 7,
              REGION_AWARE: 8,
            },
          },
        },
      },
    },
  },

  CommandInfo: {
    fields: {
      uris: repeated(`${V1}.CommandInfo.URI`, 1),
      environment: optional(`${V1}.Environment`, 2),
      shell: optional("bool", 6, true),
      value: optional("string", 3),
      arguments: repeated("string", 7),
      user: optional("string", 5),
    },
    nested: {
      URI: {
        fields: {
          value: required("string", 1),
          executable: optional("bool", 2),
          extract: optional("bool", 3, true),
          cache: optional("bool", 4),
        },
      },
    },
  },

  Environment: {
    fields: { variables: repeated(`${V1}.Environment.Variable`, 1) },
    nested: {
      Variable: {
        fields: {
          name: required("string", 1),
          value: optional("string", 2),
        },
      },
    },
  },

  Value: {
    fields: {},
    nested: {
      Type: { edition: "proto2", values: { SCALAR: 0, RANGES: 1, SET: 2, TEXT: 3 } },
      Scalar: { fields: { value: required("double", 1) } },
      Range: { fields: { begin: required("uint64", 1), end: required("uint64", 2) } },
      Ranges: { fields: { range: repeated(`${V1}.Value.Range`, 1) } },
      Set: { fields: { item: repeated("string", 1) } },
      Text: { fields: { value: required("string", 1) } },
    },
  },

  Attribute: {
    fields: {
      name: required("string", 1),
      type: required(`${V1}.Value.Type`, 2),
      scalar: optional(`${V1}.Value.Scalar`, 3),
      ranges: optional(`${V1}.Value.Ranges`, 4),
      set: optional(`${V1}.Value.Set`, 6),
      text: optional(`${V1}.Value.Text`, 5),
    },
  },

  Resource: {
    fields: {
      name: required("string", 1),
      type: required(`${V1}.Value.Type`, 2),
      scalar: optional(`${V1}.Value.Scalar`, 3),
      ranges: optional(`${V1}.Value.Ranges`, 4),
      set: optional(`${V1}.Value.Set`, 5),
      role: optional("string", 6, "*"), // deprecated (pre reservation refinement)
      allocation_info: optional(`${V1}.Resource.AllocationInfo`, 11),
      reservation: optional(`${V1}.Resource.ReservationInfo`, 8), // pre reservation refinement
      reservations: repeated(`${V1}.Resource.ReservationInfo`, 13),
      disk: optional(`${V1}.Resource.DiskInfo`, 7),
      revocable: optional(`${V1}.Resource.RevocableInfo`, 9),
      shared: optional(`${V1}.Resource.SharedInfo`, 10),
      provider_id: optional(`${V1}.ResourceProviderID`, 12),
    },
    nested: {
      AllocationInfo: { fields: { role: optional("string", 1) } },
      ReservationInfo: {
        fields: {
          type: optional(`${V1}.Resource.ReservationInfo.Type`, 4),
          role: optional("string", 3),
          principal: optional("string", 1),
          labels: optional(`${V1}.Labels`, 2),
        },
        nested: {
          Type: { edition: "proto2", values: { UNKNOWN: 0, STATIC: 1, DYNAMIC: 2 } },
        },
      },
      DiskInfo: {
        fields: {
          persistence: optional(`${V1}.Resource.DiskInfo.Persistence`, 1),
          volume: optional(`${V1}.Volume`, 2),
          source: optional(`${V1}.Resource.DiskInfo.Source`, 3),
        },
        nested: {
          Persistence: {
            fields: { id: required("string", 1), principal: optional("string", 2) },
          },
          Source: {
            fields: {
              type: required(`${V1}.Resource.DiskInfo.Source.Type`, 1),
              path: optional(`${V1}.Resource.DiskInfo.Source.Path`, 2),
              mount: optional(`${V1}.Resource.DiskInfo.Source.Mount`, 3),
              id: optional("string", 4),
              metadata: optional(`${V1}.Labels`, 5),
              profile: optional("string", 6),
            },
            nested: {
              Type: {
                edition: "proto2",
                values: { UNKNOWN: 0, PATH: 1, MOUNT: 2, BLOCK: 3, RAW: 4 },
              },
              Path: { fields: { root: optional("string", 1) } },
              Mount: { fields: { root: optional("string", 1) } },
            },
          },
        },
      },
      RevocableInfo: { fields: {} },
      SharedInfo: { fields: {} },
    },
  },

  Offer: {
    fields: {
      id: required(`${V1}.OfferID`, 1),
      framework_id: required(`${V1}.FrameworkID`, 2),
      agent_id: required(`${V1}.AgentID`, 3),
      hostname: required("string", 4),
      resources: repeated(`${V1}.Resource`, 5),
      attributes: repeated(`${V1}.Attribute`, 7),
      allocation_info: optional(`${V1}.Resource.AllocationInfo`, 10),
    },
    nested: {
      Operation: {
        fields: {
          type: optional(`${V1}.Offer.Operation.Type`, 1),
          launch: optional(`${V1}.Offer.Operation.Launch`, 2),
        },
        nested: {
          Type: {
            edition: "proto2",
            values: {
              UNKNOWN: 0,
              LAUNCH: 1,
              LAUNCH_GROUP: 6,
              RESERVE: 2,
              UNRESERVE: 3,
              CREATE: 4,
              DESTROY: 5,
              GROW_VOLUME: 11,
              SHRINK_VOLUME: 12,
              CREATE_DISK: 13,
              DESTROY_DISK: 14,
            },
          },
          Launch: { fields: { task_infos: repeated(`${V1}.TaskInfo`, 1) } },
        },
      },
    },
  },

  TaskInfo: {
    fields: {
      name: required("string", 1),
      task_id: required(`${V1}.TaskID`, 2),
      agent_id: required(`${V1}.AgentID`, 3),
      resources: repeated(`${V1}.Resource`, 4),
      command: optional(`${V1}.CommandInfo`, 7),
      container: optional(`${V1}.ContainerInfo`, 9),
      kill_policy: optional(`${V1}.KillPolicy`, 12),
      labels: optional(`${V1}.Labels`, 10),
    },
  },

  DurationInfo: { fields: { nanoseconds: required("int64", 1) } },
  KillPolicy: { fields: { grace_period: optional(`${V1}.DurationInfo`, 1) } },

  TaskState: {
    edition: "proto2",
    values: {
      TASK_STAGING: 6,
      TASK_STARTING: 0,
      TASK_RUNNING: 1,
      TASK_KILLING: 8,
      TASK_FINISHED: 2,
      TASK_FAILED: 3,
      TASK_KILLED: 4,
      TASK_ERROR: 7,
      TASK_LOST: 5,
      TASK_DROPPED: 9,
      TASK_UNREACHABLE: 10,
      TASK_GONE: 11,
      TASK_GONE_BY_OPERATOR: 12,
      TASK_UNKNOWN: 13,
    },
  },

  TaskStatus: {
    fields: {
      task_id: required(`${V1}.TaskID`, 1),
      state: required(`${V1}.TaskState`, 2),
      message: optional("string", 4),
      source: optional(`${V1}.TaskStatus.Source`, 9),
      reason: optional(`${V1}.TaskStatus.Reason`, 10),
      agent_id: optional(`${V1}.AgentID`, 5),
      timestamp: optional("double", 6),
      uuid: optional("bytes", 11),
    },
    nested: {
      Source: {
        edition: "proto2",
        values: { SOURCE_MASTER: 0, SOURCE_AGENT: 1, SOURCE_EXECUTOR: 2 },
      },
      Reason: {
        edition: "proto2",
        values: {
          REASON_COMMAND_EXECUTOR_FAILED: 0,
          REASON_CONTAINER_LAUNCH_FAILED: 21,
          REASON_CONTAINER_LIMITATION: 19,
          REASON_CONTAINER_LIMITATION_DISK: 20,
          REASON_CONTAINER_LIMITATION_MEMORY: 8,
          REASON_CONTAINER_PREEMPTED: 17,
          REASON_CONTAINER_UPDATE_FAILED: 22,
          REASON_MAX_COMPLETION_TIME_REACHED: 33,
          REASON_EXECUTOR_REGISTRATION_TIMEOUT: 23,
          REASON_EXECUTOR_REREGISTRATION_TIMEOUT: 24,
          REASON_EXECUTOR_TERMINATED: 1,
          REASON_EXECUTOR_UNREGISTERED: 2,
          REASON_FRAMEWORK_REMOVED: 3,
          REASON_GC_ERROR: 4,
          REASON_INVALID_FRAMEWORKID: 5,
          REASON_INVALID_OFFERS: 6,
          REASON_IO_SWITCHBOARD_EXITED: 27,
          REASON_MASTER_DISCONNECTED: 7,
          REASON_RECONCILIATION: 9,
          REASON_RESOURCES_UNKNOWN: 18,
          REASON_AGENT_DISCONNECTED: 10,
          REASON_AGENT_DRAINING: 34,
          REASON_AGENT_REMOVED: 11,
          REASON_AGENT_REMOVED_BY_OPERATOR: 31,
          REASON_AGENT_REREGISTERED: 32,
          REASON_AGENT_RESTARTED: 12,
          REASON_AGENT_UNKNOWN: 13,
          REASON_TASK_KILLED_DURING_LAUNCH: 30,
          REASON_TASK_CHECK_STATUS_UPDATED: 28,
          REASON_TASK_HEALTH_CHECK_STATUS_UPDATED: 29,
          REASON_TASK_GROUP_INVALID: 25,
          REASON_TASK_GROUP_UNAUTHORIZED: 26,
          REASON_TASK_INVALID: 14,
          REASON_TASK_UNAUTHORIZED: 15,
          REASON_TASK_UNKNOWN: 16,
        },
      },
    },
  },

  Filters: { fields: { refuse_seconds: optional("double", 1, 5) } },

  Parameter: { fields: { key: required("string", 1), value: required("string", 2) } },

  Volume: {
    fields: {
      mode: required(`${V1}.Volume.Mode`, 3),
      container_path: required("string", 1),
      host_path: optional("string", 2),
    },
    nested: { Mode: { edition: "proto2", values: { RW: 1, RO: 2 } } },
  },

  ContainerInfo: {
    fields: {
      type: required(`${V1}.ContainerInfo.Type`, 1),
      volumes: repeated(`${V1}.Volume`, 2),
      docker: optional(`${V1}.ContainerInfo.DockerInfo`, 3),
    },
    nested: {
      Type: { edition: "proto2", values: { DOCKER: 1, MESOS: 2 } },
      DockerInfo: {
        fields: {
          image: required("string", 1),
          network: optional(`${V1}.ContainerInfo.DockerInfo.Network`, 2, "HOST"),
          privileged: optional("bool", 4, false),
          parameters: repeated(`${V1}.Parameter`, 5),
          force_pull_image: optional("bool", 6),
        },
        nested: {
          Network: { edition: "proto2", values: { HOST: 1, BRIDGE: 2, NONE: 3, USER: 4 } },
        },
      },
    },
  },

  Request: {
    fields: {
      agent_id: optional(`${V1}.AgentID`, 1),
      resources: repeated(`${V1}.Resource`, 2),
    },
  },

  Labels: { fields: { labels: repeated(`${V1}.Label`, 1) } },
  Label: { fields: { key: required("string", 1), value: optional("string", 2) } },
};

const S = "mesos.v1.scheduler";

/** Messages of package `mesos.v1.scheduler` (scheduler.proto). */
const scheduler: Record<string, NestedJson> = {
  Event: {
    fields: {
      type: optional(`${S}.Event.Type`, 1),
      subscribed: optional(`${S}.Event.Subscribed`, 2),
      offers: optional(`${S}.Event.Offers`, 3),
      rescind: optional(`${S}.Event.Rescind`, 4),
      update: optional(`${S}.Event.Update`, 5),
      message: optional(`${S}.Event.Message`, 6),
      failure: optional(`${S}.Event.Failure`, 7),
      error: optional(`${S}.Event.Error`, 8),
    },
    nested: {
      Type: {
        edition: "proto2",
        values: {
          UNKNOWN: 0,
          SUBSCRIBED: 1,
          OFFERS: 2,
          INVERSE_OFFERS: 9,
          RESCIND: 3,
          RESCIND_INVERSE_OFFER: 10,
          UPDATE: 4,
          UPDATE_OPERATION_STATUS: 11,
          MESSAGE: 5,
          FAILURE: 6,
          ERROR: 7,
          HEARTBEAT: 8,
        },
      },
      Subscribed: {
        fields: {
          framework_id: required(`${V1}.FrameworkID`, 1),
          heartbeat_interval_seconds: optional("double", 2),
          master_info: optional(`${V1}.MasterInfo`, 3),
        },
      },
      Offers: { fields: { offers: repeated(`${V1}.Offer`, 1) } },
      Rescind: { fields: { offer_id: required(`${V1}.OfferID`, 1) } },
      Update: { fields: { status: required(`${V1}.TaskStatus`, 1) } },
      Message: {
        fields: {
          agent_id: required(`${V1}.AgentID`, 1),
          executor_id: required(`${V1}.ExecutorID`, 2),
          data: required("bytes", 3),
        },
      },
      Failure: {
        fields: {
          agent_id: optional(`${V1}.AgentID`, 1),
          executor_id: optional(`${V1}.ExecutorID`, 2),
          status: optional("int32", 3),
        },
      },
      // The docs' JSON example puts `message` at the top level; the .proto nests it here.
      Error: { fields: { message: required("string", 1) } },
    },
  },

  Call: {
    fields: {
      framework_id: optional(`${V1}.FrameworkID`, 1),
      type: optional(`${S}.Call.Type`, 2),
      subscribe: optional(`${S}.Call.Subscribe`, 3),
      accept: optional(`${S}.Call.Accept`, 4),
      decline: optional(`${S}.Call.Decline`, 5),
      revive: optional(`${S}.Call.Revive`, 15),
      kill: optional(`${S}.Call.Kill`, 6),
      shutdown: optional(`${S}.Call.Shutdown`, 7),
      acknowledge: optional(`${S}.Call.Acknowledge`, 8),
      reconcile: optional(`${S}.Call.Reconcile`, 9),
      message: optional(`${S}.Call.Message`, 10),
      request: optional(`${S}.Call.Request`, 11),
      suppress: optional(`${S}.Call.Suppress`, 16),
    },
    nested: {
      Type: {
        edition: "proto2",
        values: {
          UNKNOWN: 0,
          SUBSCRIBE: 1,
          TEARDOWN: 2,
          ACCEPT: 3,
          DECLINE: 4,
          ACCEPT_INVERSE_OFFERS: 13,
          DECLINE_INVERSE_OFFERS: 14,
          REVIVE: 5,
          KILL: 6,
          SHUTDOWN: 7,
          ACKNOWLEDGE: 8,
          ACKNOWLEDGE_OPERATION_STATUS: 15,
          RECONCILE: 9,
          RECONCILE_OPERATIONS: 16,
          MESSAGE: 10,
          REQUEST: 11,
          SUPPRESS: 12,
          UPDATE_FRAMEWORK: 17,
        },
      },
      Subscribe: {
        fields: {
          framework_info: required(`${V1}.FrameworkInfo`, 1),
          suppressed_roles: repeated("string", 2),
        },
      },
      Accept: {
        fields: {
          offer_ids: repeated(`${V1}.OfferID`, 1),
          operations: repeated(`${V1}.Offer.Operation`, 2),
          filters: optional(`${V1}.Filters`, 3),
        },
      },
      Decline: {
        fields: {
          offer_ids: repeated(`${V1}.OfferID`, 1),
          filters: optional(`${V1}.Filters`, 2),
        },
      },
      Revive: { fields: { roles: repeated("string", 1) } },
      Suppress: { fields: { roles: repeated("string", 1) } },
      Kill: {
        fields: {
          task_id: required(`${V1}.TaskID`, 1),
          agent_id: optional(`${V1}.AgentID`, 2),
          kill_policy: optional(`${V1}.KillPolicy`, 3),
        },
      },
      Shutdown: {
        fields: {
          executor_id: required(`${V1}.ExecutorID`, 1),
          agent_id: required(`${V1}.AgentID`, 2),
        },
      },
      Message: {
        fields: {
          agent_id: required(`${V1}.AgentID`, 1),
          executor_id: required(`${V1}.ExecutorID`, 2),
          data: required("bytes", 3),
        },
      },
      Request: { fields: { requests: repeated(`${V1}.Request`, 1) } },
      Acknowledge: {
        fields: {
          agent_id: required(`${V1}.AgentID`, 1),
          task_id: required(`${V1}.TaskID`, 2),
          uuid: required("bytes", 3),
        },
      },
      Reconcile: {
        fields: { tasks: repeated(`${S}.Call.Reconcile.Task`, 1) },
        nested: {
          Task: {
            fields: {
              task_id: required(`${V1}.TaskID`, 1),
              agent_id: optional(`${V1}.AgentID`, 2),
            },
          },
        },
      },
    },
  },
};

/** The whole schema as a protobufjs JSON descriptor (`protobuf.Root.fromJSON` input). */
export const MESOS_SCHEMA: protobuf.INamespace = {
  nested: {
    mesos: {
      nested: {
        v1: {
          nested: { ...mesosV1, scheduler: { nested: scheduler } },
        },
      },
    },
  },
} as protobuf.INamespace;

/**
 * Repeated fields that `messages.ts` declares as always present (non-optional arrays). Protobuf
 * cannot tell an empty repeated field from an absent one, so decoding sets these to `[]` when
 * absent, in both content types; every other repeated field is left out when empty.
 */
export const ALWAYS_PRESENT_ARRAYS: ReadonlySet<string> = new Set([
  "mesos.v1.Labels.labels",
  "mesos.v1.Value.Ranges.range",
  "mesos.v1.Value.Set.item",
  "mesos.v1.Environment.variables",
  "mesos.v1.Offer.resources",
  "mesos.v1.TaskInfo.resources",
  "mesos.v1.Offer.Operation.Launch.task_infos",
  "mesos.v1.scheduler.Event.Offers.offers",
  "mesos.v1.scheduler.Call.Accept.offer_ids",
  "mesos.v1.scheduler.Call.Accept.operations",
  "mesos.v1.scheduler.Call.Decline.offer_ids",
  "mesos.v1.scheduler.Call.Reconcile.tasks",
  "mesos.v1.scheduler.Call.Request.requests",
  "mesos.v1.Request.resources",
]);

/** Full names of the two top-level messages. */
export const EVENT_TYPE = "mesos.v1.scheduler.Event";
export const CALL_TYPE = "mesos.v1.scheduler.Call";
