import { useState, type FormEvent } from "react";
import type { Payment } from "../api/types";
import { Busy, Field, MoreButton, ProblemView, Section, fieldErrors, money, useAction, useApi, useLoad, usePaged, when } from "../ui";

export function PaymentsScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/payments`;
  const list = usePaged((cursor) => api.page<Payment>(base, cursor), [orgId]);
  const [selected, setSelected] = useState<string | null>(null);

  return (
    <>
      <h1>Payments</h1>
      <ProblemView problem={list.problem} />
      <table>
        <thead><tr><th scope="col">Payment</th><th scope="col">Purpose</th><th scope="col">Status</th><th scope="col">Captured</th><th scope="col">Refunded</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {list.items.map((p) => (
            <tr key={p.id}>
              <td data-label="Payment">{p.id}</td>
              <td data-label="Purpose">{p.purpose ?? "—"}</td>
              <td data-label="Status"><span className={`badge ${p.status}`}>{p.status}</span></td>
              <td data-label="Captured">{money(p.capturedMinor, p.currency)}</td>
              <td data-label="Refunded">{money(p.refundedMinor, p.currency)}</td>
              <td data-label="Created">{when(p.createdAt)}</td>
              <td data-label="Actions"><button type="button" onClick={() => setSelected(p.id)}>Details of {p.id}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No payments yet.</p>}
      <MoreButton list={list} />
      {selected && <PaymentDetail orgId={orgId} paymentId={selected} onChanged={list.reload} />}
    </>
  );
}

function PaymentDetail({ orgId, paymentId, onChanged }: { orgId: string; paymentId: string; onChanged: () => void }) {
  const api = useApi();
  const path = `/api/v1/orgs/${orgId}/payments/${encodeURIComponent(paymentId)}`;
  const payment = useLoad(() => api.get<Payment>(path), [path]);
  const refund = useAction();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | undefined>();
  const p = payment.value;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const minor = amount.trim() === "" ? null : Number(amount);
    if (minor !== null && (!Number.isInteger(minor) || minor <= 0)) {
      setError("A whole number of paise above 0, or empty for all that is refundable.");
      return;
    }
    setError(undefined);
    const done = await refund.run(() => api.post(`${path}/refunds`, { amountMinor: minor, reason: reason.trim() || null }));
    if (done) {
      payment.reload();
      onChanged();
    }
  };

  return (
    <Section title={`Payment ${paymentId}`}>
      <ProblemView problem={payment.problem} />
      {p && (
        <>
          <p>
            {p.status}: captured {money(p.capturedMinor, p.currency)}, refunded {money(p.refundedMinor, p.currency)}, under way {money(p.pendingRefundMinor, p.currency)},
            refundable {money(p.refundableMinor, p.currency)}{p.invoiceId && <> · invoice {p.invoiceId}</>}{p.method && <> · {p.method}</>}
          </p>
          <h3>Refunds</h3>
          <ul>
            {(p.refunds ?? []).map((r) => <li key={r.id}>{r.id}: {money(r.amountMinor, r.currency)} {r.status} {r.reason ? `(${r.reason})` : ""} {when(r.createdAt)}</li>)}
            {(p.refunds ?? []).length === 0 && <li>No refunds.</li>}
          </ul>
          <form onSubmit={(e) => void submit(e)} noValidate aria-label="Refund">
            <Field label="Amount (paise)" name="amountMinor" value={amount} onChange={setAmount} error={error ?? fieldErrors(refund.problem).amountminor} hint="Empty refunds all that is refundable. Owners only." />
            <Field label="Reason" name="reason" value={reason} onChange={setReason} error={fieldErrors(refund.problem).reason} />
            <button type="submit" disabled={refund.busy}>Refund</button>
            <Busy when={refund.busy} />
            <ProblemView problem={refund.problem} />
          </form>
        </>
      )}
    </Section>
  );
}
