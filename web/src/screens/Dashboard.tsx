import type { OrgStats } from "../api/types";
import { ProblemView, Section, money, useApi, useLoad, when } from "../ui";

/** The org at a glance, from GET /orgs/{orgId}/stats. */
export function DashboardScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const stats = useLoad(() => api.get<OrgStats>(`/api/v1/orgs/${orgId}/stats`), [orgId]);
  const s = stats.value;
  return (
    <>
      <h1>Dashboard</h1>
      <ProblemView problem={stats.problem} />
      {s && (
        <>
          <dl className="stats" aria-label="Organization stats">
            <div><dt>Members</dt><dd data-testid="stat-members">{s.members.total}</dd></div>
            <div><dt>Pending invitations</dt><dd data-testid="stat-invitations">{s.pendingInvitations}</dd></div>
            <div><dt>Active API keys</dt><dd data-testid="stat-keys">{s.activeApiKeys}</dd></div>
          </dl>
          <Section title="Members by role">
            <table>
              <thead><tr><th scope="col">Owners</th><th scope="col">Admins</th><th scope="col">Members</th><th scope="col">Viewers</th></tr></thead>
              <tbody><tr data-testid="members-by-role">
                <td data-label="Owners">{s.members.owners}</td><td data-label="Admins">{s.members.admins}</td>
                <td data-label="Members">{s.members.members}</td><td data-label="Viewers">{s.members.viewers}</td>
              </tr></tbody>
            </table>
          </Section>
          <Section title="Usage this period">
            <p>{when(s.usage.periodStart)} – {when(s.usage.periodEnd)} on plan {s.usage.planId}</p>
            <table>
              <thead><tr><th scope="col">Meter</th><th scope="col">Used</th><th scope="col">Included</th><th scope="col">Overage</th></tr></thead>
              <tbody>
                {s.usage.meters.map((m) => (
                  <tr key={m.meter} data-testid={`usage-${m.meter}`}>
                    <td data-label="Meter">{m.meter}</td><td data-label="Used">{m.used}</td>
                    <td data-label="Included">{m.included}</td><td data-label="Overage">{m.overage}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          <Section title="Money">
            <ul>
              {s.amountDue.map((d) => <li key={d.currency} data-testid={`due-${d.currency}`}>Amount due: {money(d.amountMinor, d.currency)} on {d.openInvoices} open invoice(s)</li>)}
              {s.amountDue.length === 0 && <li>Nothing due.</li>}
              {s.balances.map((b) => <li key={`${b.account}-${b.currency}`}>{b.account === "customer_credit" ? "Customer credit" : b.account === "receivable" ? "Receivable" : b.account}: {money(b.balanceMinor, b.currency)}</li>)}
            </ul>
          </Section>
          <p><small>As of {when(s.asOf)}</small></p>
        </>
      )}
    </>
  );
}
