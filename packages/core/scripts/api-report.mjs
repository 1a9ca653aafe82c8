// Writes (`--local`) or checks the API reports in etc/: one per public entry
// of @herald/core, read by API Extractor from the built .d.ts files (run
// `npm run build` first). Checked in, so a change to the public surface
// shows in review; the check fails when a report is out of date.
// Why API Extractor over TypeDoc: its report is one reviewable text file per
// entry with a stable order, and it has a check mode for CI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const packageFolder = fileURLToPath(new URL('..', import.meta.url));
const local = process.argv.includes('--local');
// API Extractor writes here; the normalised text is what goes to (or is compared with) etc/.
const generatedFolder = `${packageFolder}node_modules/.cache/api-report/generated/`;
mkdirSync(generatedFolder, { recursive: true });

/**
 * TypeScript prints the members of a zod enum's object type in the order it
 * created their string-literal types, which depends on the order it happened
 * to check files in: two clean builds of the same sources can print
 * `ZodEnum<{ tag: "tag"; bell: "bell"; … }>` in different orders. Sorting the
 * members of every ZodEnum block makes the report a function of the sources.
 */
function normalise(report) {
  // API Extractor writes CRLF; the checked-in reports use LF like every other file here.
  const lines = report.replace(/\r\n/g, '\n').split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    if (!lines[i].endsWith('ZodEnum<{')) continue;
    const members = [];
    while (i + 1 < lines.length && !lines[i + 1].trimStart().startsWith('}')) members.push(lines[++i]);
    out.push(...members.sort());
  }
  return out.join('\n');
}
const entries = [
  { name: 'core', types: 'dist/index.d.ts' },
  { name: 'core-testing', types: 'dist/testing.d.ts' },
  { name: 'core-testing-fuzz', types: 'dist/testing-fuzz.d.ts' },
  { name: 'core-dev', types: 'dist/dev.d.ts' },
  { name: 'core-payload', types: 'dist/payload.d.ts' },
];

let failed = false;
for (const entry of entries) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: packageFolder,
      mainEntryPointFilePath: `<projectFolder>/${entry.types}`,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            strict: true,
            skipLibCheck: true,
            lib: ['es2022'],
            types: ['node'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
          },
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${entry.name}.api.md`,
        reportFolder: generatedFolder,
        reportTempFolder: '<projectFolder>/node_modules/.cache/api-report/',
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report is what we review; missing release tags and doc-comment style are not failures here.
        extractorMessageReporting: {
          default: { logLevel: 'none' },
          'ae-missing-release-tag': { logLevel: 'none' },
          'ae-forgotten-export': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
        compilerMessageReporting: { default: { logLevel: 'warning' } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: `${packageFolder}package.json`,
  });
  // Always a "local" run: API Extractor only writes the report; the comparison is ours, on normalised text.
  const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false });
  if (!result.succeeded) {
    console.error(`API Extractor failed for ${entry.types} (${result.errorCount} errors)`);
    failed = true;
    continue;
  }
  const report = normalise(readFileSync(`${generatedFolder}${entry.name}.api.md`, 'utf8'));
  const checkedIn = `${packageFolder}etc/${entry.name}.api.md`;
  if (local) {
    writeFileSync(checkedIn, report);
  } else if (!existsSync(checkedIn)) {
    // A new entry: its first report is written by `api:report`, then reviewed and committed.
    console.error(
      `etc/${entry.name}.api.md is missing: ${entry.types} is a new entry. Run \`npm run api:report -w @herald/core\` and commit the report.`,
    );
    failed = true;
  } else if (normalise(readFileSync(checkedIn, 'utf8')) !== report) {
    console.error(
      `etc/${entry.name}.api.md is out of date: the public API of ${entry.types} changed. Run \`npm run api:report -w @herald/core\` and commit the report. The build's report is ${generatedFolder}${entry.name}.api.md.`,
    );
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(local ? 'API reports written to etc/' : 'API reports are up to date');
