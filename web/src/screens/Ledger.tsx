import type { AccountSummary, LedgerTransaction, TrialBalance } from "../api/types";
import { MoreButton, ProblemView, Section, money, useApi, useLoad, usePaged, when } from "../ui";

export function LedgerScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/ledger`;
  const accounts = useLoad(() => api.get<{ data: AccountSummary[] } | AccountSummary[]>(`${base}/accounts`), [orgId]);
  const trial = useLoad(() => api.get<TrialBalance>(`${base}/trial-balance`), [orgId]);
  const txns = usePaged((cursor) => api.page<LedgerTransaction>(`${base}/transactions`, cursor), [orgId]);
  const accountRows = Array.isArray(accounts.value) ? accounts.value : accounts.value?.data ?? [];

  return (
    <>
      <h1>Ledger</h1>
      <Section title="Accounts">
        <ProblemView problem={accounts.problem} />
        <table>
          <thead><tr><th scope="col">Account</th><th scope="col">Type</th><th scope="col">Balance</th></tr></thead>
          <tbody>
            {accountRows.map((a) => (
              <tr key={a.code}>
                <td data-label="Account"><code>{a.code}</code><br /><small>{a.description}</small></td>
                <td data-label="Type">{a.type}</td>
                <td data-label="Balance">{a.balances.length === 0 ? "—" : a.balances.map((b) => money(b.balance, b.currency)).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Trial balance">
        <ProblemView problem={trial.problem} />
        {trial.value && (
          <>
            <p>As of {when(trial.value.asOf)}: {trial.value.balanced ? "balanced" : "NOT balanced"}.</p>
            {trial.value.currencies.map((c) => (
              <table key={c.currency}>
                <caption>{c.currency}: debits {money(c.totalDebits, c.currency)}, credits {money(c.totalCredits, c.currency)}</caption>
                <thead><tr><th scope="col">Account</th><th scope="col">Debit</th><th scope="col">Credit</th></tr></thead>
                <tbody>{c.accounts.map((a) => <tr key={a.account}><td>{a.account}</td><td>{money(a.debit, c.currency)}</td><td>{money(a.credit, c.currency)}</td></tr>)}</tbody>
              </table>
            ))}
            {trial.value.currencies.length === 0 && <p>Nothing posted yet.</p>}
          </>
        )}
      </Section>
      <Section title="Transactions">
        <ProblemView problem={txns.problem} />
        <ul className="journal">
          {txns.items.map((t) => (
            <li key={t.id}>
              <strong>{t.description}</strong> <small>{when(t.postedAt)}</small>
              <ul>{t.lines.map((l, i) => <li key={i}>{l.account}: {l.debit > 0 ? `Dr ${money(l.debit, l.currency)}` : `Cr ${money(l.credit, l.currency)}`}</li>)}</ul>
            </li>
          ))}
        </ul>
        {txns.items.length === 0 && !txns.loading && <p>No transactions yet.</p>}
        <MoreButton list={txns} />
      </Section>
    </>
  );
}
