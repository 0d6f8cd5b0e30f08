/**
 * The real Mesos v1 protos, read at test time from an installed system package: Debian's
 * `golang-github-mesos-mesos-go-dev` installs mesos-go's copies of `mesos.proto` and
 * `scheduler.proto` (package `mesos` and `mesos.scheduler`: the Apache v1 messages field for
 * field, with gogo/protobuf options added). Nothing of them is copied into the repository.
 *
 * The files import gogo's `gogo.proto` for those options; protobufjs's parser keeps an option it
 * does not know as a plain option, and imports are only followed when asked, so the two files are
 * parsed into one root and resolved without it.
 * @module
 */

import protobuf from "protobufjs";

/** Where the Debian package puts mesos-go's v1 protos. */
export const MESOS_GO_PROTO_DIR = "/usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib";
/** The Debian package that provides them. */
export const MESOS_GO_PACKAGE = "golang-github-mesos-mesos-go-dev";

/** The loaded protos, and the name of our `mesos.v1[.scheduler]` messages in them. */
export interface RealProtos {
  readonly root: protobuf.Root;
  /** The real type for one of our full names (`mesos.v1.Resource` → `mesos.Resource`). */
  type(ourName: string): protobuf.Type;
  /** The real enum for one of our full names. */
  enumOf(ourName: string): protobuf.Enum;
  /** Which files were read. */
  readonly files: readonly string[];
}

/**
 * Loads `mesos.proto` and `scheduler/scheduler.proto` from `dir`, or returns undefined (with
 * the reason) when they are not there.
 */
export function loadRealProtos(
  dir = MESOS_GO_PROTO_DIR,
): RealProtos | { missing: string } {
  const files = [`${dir}/mesos.proto`, `${dir}/scheduler/scheduler.proto`];
  const root = new protobuf.Root();
  let pkg = "";
  for (const file of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (err) {
      return { missing: `${file}: ${(err as Error).message}` };
    }
    const parsed = protobuf.parse(text, root, { keepCase: true });
    if (file.endsWith("/mesos.proto")) pkg = parsed.package ?? "";
  }
  root.resolveAll();
  // Apache's files say `mesos.v1`; mesos-go's say `mesos`.
  const rename = (ours: string) => pkg === "mesos.v1" ? ours : ours.replace(/^mesos\.v1\b/, pkg);
  return {
    root,
    files,
    type: (ours) => root.lookupType(rename(ours)),
    enumOf: (ours) => root.lookupEnum(rename(ours)),
  };
}
