import type { Plan, Subscription } from "../api/types";
import { Busy, ProblemView, Section, money, useAction, useApi, useLoad, when } from "../ui";

export function PlanScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const subscription = useLoad(() => api.get<Subscription>(`/api/v1/orgs/${orgId}/subscription`), [orgId]);
  const plans = useLoad(() => api.get<{ data: Plan[] }>("/api/v1/plans"), []);
  const change = useAction();
  const current = subscription.value;

  return (
    <>
      <h1>Plan</h1>
      <ProblemView problem={subscription.problem ?? plans.problem ?? change.problem} />
      {current && (
        <p>
          On <strong>{current.planName}</strong> ({current.status}), {money(current.monthlyFeeMinor, current.currency)} a month; this period{" "}
          {when(current.currentPeriodStart)} – {when(current.currentPeriodEnd)}; the fee is collected by {current.feeCollectedBy}.
        </p>
      )}
      <Section title="Plans">
        <ul className="cards">
          {plans.value?.data.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> {money(p.monthlyFeeMinor, p.currency)}/month · {p.apiRateLimitPerMinute} API calls/minute
              <ul>
                {Object.entries(p.meters).map(([meter, m]) => (
                  <li key={meter}>{meter}: {m.includedQuantity} included, then {money(m.pricePerUnitBlockMinor, p.currency)} per {m.unitSize}</li>
                ))}
              </ul>
              {current?.planId === p.id ? (
                <em>Current plan</em>
              ) : (
                <button type="button" disabled={change.busy} onClick={() => void change.run(() => api.post(`/api/v1/orgs/${orgId}/subscription`, { planId: p.id })).then(subscription.reload)}>
                  Move to {p.name}
                </button>
              )}
            </li>
          ))}
        </ul>
        <Busy when={change.busy} />
      </Section>
    </>
  );
}
