/**
 * Prints the README's option table from the option table in `lib/config/options.ts`, so the
 * documentation cannot drift from the parser. `deno run scripts/options_md.ts --write` updates
 * README.md between its markers; a test checks that README.md is up to date.
 * @module
 */

import { envName, OPTIONS, type OptionSpec, yamlKey } from "../lib/config/options.ts";

export const BEGIN = "<!-- options:begin -->";
export const END = "<!-- options:end -->";

/** The Markdown table of every option. */
export function optionsMarkdown(): string {
  const rows = [
    "| flag | env | YAML key | default | what it does |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const opt of OPTIONS as readonly OptionSpec[]) {
    const arg = opt.type === "boolean"
      ? ""
      : opt.type === "enum"
      ? ` ${opt.choices!.join("\\|")}`
      : ` ${opt.arg ?? "VALUE"}`;
    const def = opt.default === undefined
      ? ""
      : Array.isArray(opt.default)
      ? (opt.default.length ? opt.default.join(",") : "")
      : String(opt.default);
    const flag = opt.envOnly
      ? "(environment only)"
      : opt.type === "boolean"
      ? `\`--${opt.name}\`, \`--no-${opt.name}\``
      : `\`--${opt.name}${arg}\``;
    rows.push(
      `| ${flag} | \`${envName(opt.name)}\` | ${
        opt.envOnly ? "—" : `\`${yamlKey(opt.name)}\``
      } | ` +
        `${def === "" ? "" : `\`${def}\``}${
          opt.max !== undefined ? ` (at most ${opt.max})` : ""
        } | ` +
        `${opt.help.replaceAll("|", "\\|")} |`,
    );
  }
  return rows.join("\n");
}

/** README text with the table between the markers replaced. */
export function withOptions(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1) throw new Error("README.md has no option markers");
  return readme.slice(0, start + BEGIN.length) + "\n\n" + optionsMarkdown() + "\n\n" +
    readme.slice(end);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const readme = Deno.readTextFileSync(path);
  if (Deno.args.includes("--write")) Deno.writeTextFileSync(path, withOptions(readme));
  else console.log(optionsMarkdown());
}
