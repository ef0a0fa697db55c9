import { useState } from "react";
import type { Invoice, Payment } from "../api/types";
import { payThroughCheckout, showPrintable } from "../billing";
import { Busy, MoreButton, ProblemView, useAction, useApi, usePaged, money, when } from "../ui";

export function InvoicesScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/invoices`;
  const list = usePaged((cursor) => api.page<Invoice>(base, cursor), [orgId]);
  const open = useAction();
  const pay = useAction();
  const [verified, setVerified] = useState<Payment | null>(null);

  const startPayment = async (invoice: Invoice) => {
    setVerified(null);
    const payment = await pay.run(() => payThroughCheckout(api, orgId, `${base}/${invoice.id}/checkout`));
    if (payment) {
      setVerified(payment);
      list.reload();
    }
  };

  return (
    <>
      <h1>Invoices</h1>
      <ProblemView problem={list.problem ?? open.problem ?? pay.problem} />
      <Busy when={pay.busy} label="Paying through Razorpay Checkout…" />
      {verified && (
        <p role="status" data-testid="payment-verified">
          Payment {verified.id} verified ({verified.status}, {money(verified.amountMinor, verified.currency)}); the invoice is marked paid when Razorpay reports the capture.
        </p>
      )}
      <table>
        <thead><tr><th scope="col">Number</th><th scope="col">Period</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Due</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {list.items.map((i) => (
            <tr key={i.id}>
              <td data-label="Number">{i.number ?? i.id}</td>
              <td data-label="Period">{when(i.periodStart)} – {when(i.periodEnd)}</td>
              <td data-label="Status"><span className={`badge ${i.status}`}>{i.status}</span></td>
              <td data-label="Total">{money(i.totalMinor, i.currency)}</td>
              <td data-label="Due">{money(i.amountDueMinor, i.currency)}</td>
              <td data-label="Actions" className="actions">
                <button type="button" onClick={() => void showPrintable(() => open.run(() => api.text(`${base}/${i.id}.html`)))}>Printable invoice</button>
                {i.status === "issued" && i.amountDueMinor > 0 && (
                  <button type="button" disabled={pay.busy} onClick={() => void startPayment(i)}>Pay {i.number ?? ""}</button>
                )}
                {i.status === "issued" && i.amountDueMinor > 0 && (i.paymentUrl ? (
                  <a href={i.paymentUrl} target="_blank" rel="noopener noreferrer" data-testid="pay-link">Razorpay pay link</a>
                ) : (
                  // Razorpay was unavailable (or is not configured) when the invoice was issued; the daily invoice run retries.
                  <span className="muted" data-testid="pay-link-pending">No pay link yet</span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No invoices yet: the first is issued after the first calendar month closes.</p>}
      <MoreButton list={list} />
    </>
  );
}
