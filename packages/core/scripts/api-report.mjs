// Writes (`--local`) or checks the API reports in etc/: one per public entry
// of @herald/core, read by API Extractor from the built .d.ts files (run
// `npm run build` first). Checked in, so a change to the public surface
// shows in review; the check fails when a report is out of date.
// Why API Extractor over TypeDoc: its report is one reviewable text file per
// entry with a stable order, and it has a check mode for CI.
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const packageFolder = fileURLToPath(new URL('..', import.meta.url));
const local = process.argv.includes('--local');
const entries = [
  { name: 'core', types: 'dist/index.d.ts' },
  { name: 'core-testing', types: 'dist/testing.d.ts' },
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
        reportFolder: '<projectFolder>/etc/',
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
  const result = Extractor.invoke(config, { localBuild: local, showVerboseMessages: false });
  if (result.apiReportChanged && !local) {
    console.error(
      `etc/${entry.name}.api.md is out of date: the public API of ${entry.types} changed. Run \`npm run api:report -w @herald/core\` and commit the report.`,
    );
    failed = true;
  } else if (!result.succeeded) {
    console.error(`API Extractor failed for ${entry.types} (${result.errorCount} errors)`);
    failed = true;
  }
}
if (failed) process.exit(1);
console.log(local ? 'API reports written to etc/' : 'API reports are up to date');
