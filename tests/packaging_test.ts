import assert from "node:assert/strict";
import { withOptions } from "../scripts/options_md.ts";

const root = new URL("../", import.meta.url);
const read = (p: string) => Deno.readTextFileSync(new URL(p, root));

/** Table rows without the padding `deno fmt` adds to align columns. */
function unpadded(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.startsWith("|") ? line.replace(/ *\| */g, "|").replace(/-{3,}/g, "---") : line
    )
    .join("\n");
}

Deno.test("README's option table matches the option table (run scripts/options_md.ts --write)", () => {
  const readme = read("README.md");
  assert.equal(unpadded(withOptions(readme)), unpadded(readme));
});

Deno.test("README names the two commands", () => {
  const readme = read("README.md");
  assert.match(readme, /deno task demo/);
  assert.match(readme, /deno task test/);
});

Deno.test("deno.json has the tasks the README promises, npm-only imports", () => {
  const config = JSON.parse(read("deno.json"));
  for (const task of ["demo", "test", "check", "bench", "compile"]) {
    assert.ok(config.tasks[task], `task ${task}`);
  }
  assert.match(config.tasks.compile, /--output dist\/relay\.mesos main\.ts$/);
  for (const spec of Object.values(config.imports) as string[]) {
    assert.match(spec, /^npm:/, `${spec} is not from npm`);
  }
});

Deno.test("Dockerfile compiles main.ts in a Deno stage and runs it as a non-root user", () => {
  const lines = read("Dockerfile")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const froms = lines.filter((l) => l.startsWith("FROM "));
  assert.equal(froms.length, 2, "two stages");
  assert.match(froms[0], /^FROM denoland\/deno:\d+\.\d+\.\d+ AS build$/);
  const compile = lines.find((l) => l.startsWith("RUN deno compile"));
  assert.ok(compile, "a deno compile step");
  assert.match(compile, /main\.ts$/);
  const config = JSON.parse(read("deno.json"));
  const perms = (s: string) => s.match(/--allow-[a-z]+(=\S+)?/g)!.sort();
  assert.deepEqual(perms(compile), perms(config.tasks.compile), "same permissions as the task");
  const user = lines.findLast((l) => l.startsWith("USER "));
  assert.ok(user && !/^USER (root|0)$/.test(user), "runs as non-root");
  assert.ok(lines.includes('ENTRYPOINT ["relay.mesos"]'));
  assert.ok(lines.some((l) => l.startsWith("COPY --from=build")));
});
