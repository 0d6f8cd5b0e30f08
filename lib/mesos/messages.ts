/**
 * TypeScript shapes of the Mesos v1 scheduler API messages Relay.Mesos uses. They follow the
 * proto3 JSON mapping of `mesos.proto` / `scheduler.proto` exactly: field names as in the .proto
 * (snake_case), enums as their names, `bytes` as Base64 strings, 64-bit numbers as numbers. The
 * same objects are encoded as JSON or as protobuf by `codec.ts`, so there is one code path.
 * Only the fields we read or write are listed; decoding keeps unknown fields out.
 * @module
 */

export interface Id {
  value: string;
}

export interface Label {
  key: string;
  value?: string;
}

export interface Labels {
  labels: Label[];
}

export interface AllocationInfo {
  role?: string;
}

export interface Scalar {
  value: number;
}

export interface Range {
  begin: number;
  end: number;
}

/** One reservation of a resource (`Resource.ReservationInfo`). */
export interface ReservationInfo {
  type?: "UNKNOWN" | "STATIC" | "DYNAMIC";
  role?: string;
  principal?: string;
  labels?: Labels;
}

/** Where a disk resource lives, and whether it is a persistent volume (`Resource.DiskInfo`). */
export interface DiskInfo {
  persistence?: { id: string; principal?: string };
  volume?: Volume;
  source?: {
    type: "UNKNOWN" | "PATH" | "MOUNT" | "BLOCK" | "RAW";
    path?: { root?: string };
    mount?: { root?: string };
    id?: string;
    metadata?: Labels;
    profile?: string;
  };
}

/**
 * A resource as offered. Everything but `scalar` says which resource it is: a task's share of it
 * must repeat those fields unchanged, or the master refuses the task.
 */
export interface Resource {
  name: string;
  type: "SCALAR" | "RANGES" | "SET" | "TEXT";
  scalar?: Scalar;
  ranges?: { range: Range[] };
  set?: { item: string[] };
  /** Deprecated pre-reservation-refinement role; still sent by masters. */
  role?: string;
  allocation_info?: AllocationInfo;
  /** The reservation in the pre-refinement format (with `role`). */
  reservation?: ReservationInfo;
  /** The reservations in the refinement format, most refined last. */
  reservations?: ReservationInfo[];
  disk?: DiskInfo;
  /** Present (empty) on revocable resources. */
  revocable?: Record<string, never>;
  /** Present (empty) on shared resources. */
  shared?: Record<string, never>;
  provider_id?: Id;
}

export interface MasterAddress {
  hostname?: string;
  ip?: string;
  port: number;
}

export interface MasterInfo {
  id: string;
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: MasterAddress;
}

export interface FrameworkCapability {
  type: "MULTI_ROLE" | "PARTITION_AWARE" | "TASK_KILLING_STATE" | "GPU_RESOURCES" | "REGION_AWARE";
}

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: Id;
  failover_timeout?: number;
  checkpoint?: boolean;
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  capabilities?: FrameworkCapability[];
  labels?: Labels;
}

/** An agent attribute (e.g. `rack:r1`), as offers carry them. */
export interface Attribute {
  name: string;
  type: "SCALAR" | "RANGES" | "SET" | "TEXT";
  scalar?: Scalar;
  ranges?: { range: Range[] };
  set?: { item: string[] };
  text?: { value: string };
}

export interface Offer {
  id: Id;
  framework_id: Id;
  agent_id: Id;
  hostname: string;
  resources: Resource[];
  attributes?: Attribute[];
  allocation_info?: AllocationInfo;
}

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface CommandUri {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
}

export interface CommandInfo {
  uris?: CommandUri[];
  environment?: { variables: EnvironmentVariable[] };
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface Parameter {
  key: string;
  value: string;
}

export interface Volume {
  container_path: string;
  host_path?: string;
  mode: "RW" | "RO";
}

export interface ContainerInfo {
  type: "DOCKER" | "MESOS";
  volumes?: Volume[];
  docker?: {
    image: string;
    network?: "HOST" | "BRIDGE" | "NONE" | "USER";
    privileged?: boolean;
    parameters?: Parameter[];
    force_pull_image?: boolean;
  };
}

/** How a task is killed: SIGTERM, then SIGKILL after `grace_period`. */
export interface KillPolicy {
  grace_period?: { nanoseconds: number };
}

export interface TaskInfo {
  name: string;
  task_id: Id;
  agent_id: Id;
  resources: Resource[];
  command?: CommandInfo;
  container?: ContainerInfo;
  kill_policy?: KillPolicy;
  labels?: Labels;
}

export type TaskStateName =
  | "TASK_STAGING"
  | "TASK_STARTING"
  | "TASK_RUNNING"
  | "TASK_KILLING"
  | "TASK_FINISHED"
  | "TASK_FAILED"
  | "TASK_KILLED"
  | "TASK_ERROR"
  | "TASK_LOST"
  | "TASK_DROPPED"
  | "TASK_UNREACHABLE"
  | "TASK_GONE"
  | "TASK_GONE_BY_OPERATOR"
  | "TASK_UNKNOWN";

export interface TaskStatus {
  task_id: Id;
  state: TaskStateName;
  message?: string;
  source?: "SOURCE_MASTER" | "SOURCE_AGENT" | "SOURCE_EXECUTOR";
  reason?: string;
  agent_id?: Id;
  timestamp?: number;
  /** Base64; present when the update must be acknowledged. */
  uuid?: string;
}

export interface Filters {
  refuse_seconds?: number;
}

export interface Operation {
  type: "LAUNCH";
  launch?: { task_infos: TaskInfo[] };
}

/** An event on the SUBSCRIBE stream. */
export interface Event {
  type:
    | "SUBSCRIBED"
    | "OFFERS"
    | "INVERSE_OFFERS"
    | "RESCIND"
    | "RESCIND_INVERSE_OFFER"
    | "UPDATE"
    | "UPDATE_OPERATION_STATUS"
    | "MESSAGE"
    | "FAILURE"
    | "ERROR"
    | "HEARTBEAT"
    | "UNKNOWN";
  subscribed?: { framework_id: Id; heartbeat_interval_seconds?: number; master_info?: MasterInfo };
  offers?: { offers: Offer[] };
  rescind?: { offer_id: Id };
  update?: { status: TaskStatus };
  message?: { agent_id: Id; executor_id: Id; data: string };
  failure?: { agent_id?: Id; executor_id?: Id; status?: number };
  error?: { message: string };
}

/** A call to `POST /api/v1/scheduler`. */
export interface Call {
  framework_id?: Id;
  type:
    | "SUBSCRIBE"
    | "TEARDOWN"
    | "ACCEPT"
    | "DECLINE"
    | "REVIVE"
    | "KILL"
    | "SHUTDOWN"
    | "ACKNOWLEDGE"
    | "RECONCILE"
    | "MESSAGE"
    | "REQUEST"
    | "SUPPRESS";
  subscribe?: { framework_info: FrameworkInfo; suppressed_roles?: string[] };
  accept?: { offer_ids: Id[]; operations: Operation[]; filters?: Filters };
  decline?: { offer_ids: Id[]; filters?: Filters };
  revive?: { roles?: string[] };
  suppress?: { roles?: string[] };
  kill?: { task_id: Id; agent_id?: Id; kill_policy?: KillPolicy };
  acknowledge?: { agent_id: Id; task_id: Id; uuid: string };
  reconcile?: { tasks: { task_id: Id; agent_id?: Id }[] };
  shutdown?: { executor_id: Id; agent_id: Id };
  /** `data` is Base64. */
  message?: { agent_id: Id; executor_id: Id; data: string };
  request?: { requests: { agent_id?: Id; resources: Resource[] }[] };
}
