import type { Plan, Subscription } from "../api/types";
import { openCheckout } from "../razorpay";
import { Busy, ProblemView, Section, money, useAction, useApi, useLoad, when } from "../ui";

export function PlanScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const subscription = useLoad(() => api.get<Subscription>(`/api/v1/orgs/${orgId}/subscription`), [orgId]);
  const plans = useLoad(() => api.get<{ data: Plan[] }>("/api/v1/plans"), []);
  const change = useAction();
  const current = subscription.value;
  const recurring = current?.razorpaySubscriptionId && !["cancelled", "completed", "expired", "halted"].includes(current.razorpaySubscriptionStatus ?? "");

  // Razorpay charges the fee monthly once the customer authorises the subscription in Checkout.
  const startRecurring = async (planId: string) => {
    const started = await change.run(() => api.post<Subscription>(`/api/v1/orgs/${orgId}/subscription`, { planId, collection: "razorpay" }));
    subscription.reload();
    if (started?.checkout) {
      await change.run(() => openCheckout({ keyId: started.checkout!.keyId, subscriptionId: started.checkout!.subscriptionId }).then((paid) =>
        api.post(`/api/v1/orgs/${orgId}/payments/verify`, {
          razorpaySubscriptionId: paid.razorpay_subscription_id ?? started.checkout!.subscriptionId,
          razorpayPaymentId: paid.razorpay_payment_id,
          razorpaySignature: paid.razorpay_signature,
        })));
      subscription.reload();
    }
  };
  const cancel = (atPeriodEnd: boolean) => void change.run(() => api.post(`/api/v1/orgs/${orgId}/subscription/cancel`, { atPeriodEnd })).then(subscription.reload);

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
      {current && recurring && (
        <Section title="Recurring payment">
          <p data-testid="recurring">
            Razorpay subscription {current.razorpaySubscriptionId}: {current.razorpaySubscriptionStatus}
            {current.pendingPlanId && <> (moves to {current.pendingPlanId} once authorised)</>}
            {current.cancelRequestedAt && <>; cancellation requested {current.cancelAtPeriodEnd ? "at period end" : "now"} on {when(current.cancelRequestedAt)}</>}
          </p>
          {current.checkout?.shortUrl && <p><a href={current.checkout.shortUrl} target="_blank" rel="noreferrer">Authorise in Razorpay</a></p>}
          <button type="button" disabled={change.busy} onClick={() => cancel(true)}>Cancel at period end</button>{" "}
          <button type="button" disabled={change.busy} onClick={() => cancel(false)}>Cancel now</button>
        </Section>
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
              {current?.planId !== p.id && p.monthlyFeeMinor > 0 && !recurring && (
                <>
                  {" "}
                  <button type="button" disabled={change.busy} onClick={() => void startRecurring(p.id)}>Pay {p.name} monthly through Razorpay</button>
                </>
              )}
            </li>
          ))}
        </ul>
        <Busy when={change.busy} />
      </Section>
    </>
  );
}
