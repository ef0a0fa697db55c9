import type { Invoice } from "../api/types";
import { MoreButton, ProblemView, useAction, useApi, usePaged, money, when } from "../ui";

export function InvoicesScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/invoices`;
  const list = usePaged((cursor) => api.page<Invoice>(base, cursor), [orgId]);
  const open = useAction();

  // The printable invoice needs the caller's token, so it is fetched and shown from a blob, not linked.
  const print = async (invoice: Invoice) => {
    const view = window.open("", "_blank");
    const html = await open.run(() => api.text(`${base}/${invoice.id}.html`));
    if (html && view) {
      view.location.href = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    } else {
      view?.close();
    }
  };

  return (
    <>
      <h1>Invoices</h1>
      <ProblemView problem={list.problem ?? open.problem} />
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
                <button type="button" onClick={() => void print(i)}>Printable invoice</button>
                {i.paymentUrl && <a href={i.paymentUrl} target="_blank" rel="noreferrer">Pay</a>}
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
