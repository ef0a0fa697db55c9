import { useState, type FormEvent } from "react";
import type { CreditNote, Credits, Payment } from "../api/types";
import { payThroughCheckout, showPrintable } from "../billing";
import { Busy, Field, MoreButton, ProblemView, Section, money, useAction, useApi, useLoad, usePaged, when } from "../ui";

export function CreditsScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const credits = useLoad(() => api.get<Credits>(`/api/v1/orgs/${orgId}/credits`), [orgId]);
  const topUp = useAction();
  const [amount, setAmount] = useState("50000");
  const [currency, setCurrency] = useState("INR");
  const [error, setError] = useState<string | undefined>();
  const [verified, setVerified] = useState<Payment | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const minor = Number(amount);
    if (!Number.isInteger(minor) || minor <= 0) {
      setError("A whole number of paise above 0.");
      return;
    }
    setError(undefined);
    const payment = await topUp.run(() => payThroughCheckout(api, orgId, `/api/v1/orgs/${orgId}/credits/checkout`, { amountMinor: minor, currency }));
    if (payment) {
      setVerified(payment);
      credits.reload();
    }
  };

  return (
    <>
      <h1>Credits</h1>
      <ProblemView problem={credits.problem} />
      <ul data-testid="credit-balances">
        {credits.value?.balances.map((b) => <li key={b.currency}>Credit balance: {money(b.balanceMinor, b.currency)}</li>)}
        {credits.value?.balances.length === 0 && <li>No credit yet.</li>}
      </ul>
      <Section title="Movements">
        <table>
          <thead><tr><th scope="col">Posted</th><th scope="col">Description</th><th scope="col">Debit</th><th scope="col">Credit</th></tr></thead>
          <tbody>
            {credits.value?.movements.map((m, i) => (
              <tr key={i}>
                <td data-label="Posted">{when(m.postedAt)}</td><td data-label="Description">{m.memo ?? m.transactionId}</td>
                <td data-label="Debit">{money(m.debit, m.currency)}</td><td data-label="Credit">{money(m.credit, m.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Top up">
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Top up">
          <Field label="Amount (paise)" name="amountMinor" value={amount} onChange={setAmount} error={error} required />
          <Field label="Currency" name="currency" value={currency} onChange={setCurrency} required />
          <button type="submit" disabled={topUp.busy}>Top up through Razorpay</button>
          <Busy when={topUp.busy} label="Paying through Razorpay Checkout…" />
          <ProblemView problem={topUp.problem} />
          {verified && <p role="status">Payment {verified.id} verified; the credit is added when Razorpay reports the capture.</p>}
        </form>
      </Section>
    </>
  );
}

export function CreditNotesScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/credit-notes`;
  const list = usePaged((cursor) => api.page<CreditNote>(base, cursor), [orgId]);
  const open = useAction();
  return (
    <>
      <h1>Credit notes</h1>
      <ProblemView problem={list.problem ?? open.problem} />
      <table>
        <thead><tr><th scope="col">Number</th><th scope="col">Issued</th><th scope="col">Invoice</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {list.items.map((n) => (
            <tr key={n.id}>
              <td data-label="Number">{n.number}</td>
              <td data-label="Issued">{when(n.issuedAt)}</td>
              <td data-label="Invoice">{n.invoiceNumber ?? n.invoiceId}</td>
              <td data-label="Status"><span className={`badge ${n.status}`}>{n.status}</span></td>
              <td data-label="Total">{money(n.totalMinor, n.currency)}</td>
              <td data-label="Actions"><button type="button" onClick={() => void showPrintable(() => open.run(() => api.text(`${base}/${n.id}.html`)))}>Printable credit note</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No credit notes: one is issued for each refund of an invoice payment.</p>}
      <MoreButton list={list} />
    </>
  );
}
