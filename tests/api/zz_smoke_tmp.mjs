import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, sql, signedLoan, adminToken, newUser, getLoan, pollUntil, loanctlStack, paise } from './lib.mjs';

test('smoke', async () => {
  const admin = await adminToken();
  const officer = await newUser('officer', admin);
  const x = await signedLoan({}, 'smoke');
  await sql(`UPDATE loans SET principal=10000000, rate_bps=1200, tenure_months=12, emi=888488, fee=0, fee_tax=0, net_disbursed=10000000, apr_bps=1200, outstanding_principal=10000000 WHERE loan_id=:'p1'`, x.loanId);
  let r = await api('POST', `/loans/${x.loanId}/disburse`, { token: officer.token, body: {} });
  console.log('disburse', r.status, r.text.slice(0, 200));
  if (r.status === 202 && r.json.disbursal) {
    const o2 = await newUser('officer', admin);
    r = await api('POST', `/loans/${x.loanId}/disburse`, { token: o2.token, body: {} });
    console.log('disburse2', r.status, r.text.slice(0, 200));
  }
  const l = await pollUntil('active', async () => { const l = await getLoan(x.loanId, officer.token); return l.state === 'ACTIVE' ? l : null; });
  console.log(JSON.stringify(l));
  let s = await api('GET', `/loans/${x.loanId}/schedule`, { token: officer.token });
  console.log(JSON.stringify(s.json.schedule[0]));
  r = await api('POST', `/loans/${x.loanId}/repayments`, { token: officer.token, body: { amount: 8884.88, reference: 'UTR' + Date.now() } });
  console.log('repay', r.status, r.text);
  s = await api('GET', `/loans/${x.loanId}/schedule`, { token: officer.token });
  console.log(JSON.stringify(s.json.schedule.slice(0, 2)));
  const due1 = s.json.schedule[0].due_date, due2 = s.json.schedule[1].due_date;
  console.log(loanctlStack(['cob', '--date', due2]).split('\n').slice(-3).join('\n'));
  console.log(JSON.stringify(await getLoan(x.loanId, officer.token)));
  s = await api('GET', `/loans/${x.loanId}/schedule`, { token: officer.token });
  console.log(JSON.stringify(s.json.schedule.slice(0, 3)));
  r = await api('GET', `/loans/${x.loanId}/foreclosure-quote`, { token: officer.token });
  console.log('quote', r.status, r.text);
  r = await api('GET', `/portfolio/overview`, { token: officer.token });
  console.log('portfolio', r.status, r.text);
  r = await api('GET', `/portfolio/delinquency?bucket=SMA-0`, { token: officer.token });
  console.log('delinq', r.status, r.text.slice(0, 300));
  r = await api('GET', `/loans/${x.loanId}/repayments`, { token: x.applicant.token });
  console.log('list', r.status, r.text.slice(0, 500));
  const rid = r.json.repayments[0].repayment_id;
  r = await api('POST', `/loans/${x.loanId}/repayments/${rid}/reverse`, { token: officer.token, body: { reason: 'bounced' } });
  console.log('reverse', r.status, r.text.slice(0, 600));
  console.log((await sql('SELECT * FROM loan_dpd_history WHERE loan_id=:'p1'', x.loanId)));
  await sql('DELETE FROM cob_runs');
});
