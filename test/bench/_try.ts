import { ensureOrthanc, startOrthanc, startArchiveProcess } from './servers';
import { sendCorpus, countInstances, benchSendRs } from './send-rs';
import { stowAll } from './common';
const inst = ensureOrthanc(console.log);
if (typeof inst === 'string') process.exit(1);
const o = await startOrthanc(inst, { name: 'x' });
const a = await startArchiveProcess({ SEND_RETRY_AFTER_SECONDS: '1' });
try {
  const c = sendCorpus(200, 2000);
  await stowAll(a.url, c.files, 100, 2);
  console.log('archive holds', await countInstances(a.url, c.studyInstanceUIDs));
  try { console.log(await benchSendRs({ origin: a.url, originDataDir: a.dataDir, destination: o.url, corpus: c })); } catch (e) { console.log(String(e)); }
  for (const st of c.studyInstanceUIDs) { const r = await fetch(`${o.url}/studies/${st}/instances`); console.log(st, r.status, r.status===200 ? ((await r.json()) as unknown[]).length : await r.text()); }
  for (const id of (await (await fetch(`${o.restUrl}/studies`)).json()) as string[]) { const j = await (await fetch(`${o.restUrl}/studies/${id}`)).json() as any; console.log(j.MainDicomTags.StudyInstanceUID, j.Series.length); }
  console.log(await (await fetch(`${o.restUrl}/statistics`)).text());
} finally { await o.close(); await a.close(); }
