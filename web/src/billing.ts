import type { Api } from "./api/http";
import type { Checkout, Payment } from "./api/types";
import { openCheckout } from "./razorpay";

/** Orders through the API, opens Checkout, and has the API verify the signature Checkout returns. */
export async function payThroughCheckout(api: Api, orgId: string, orderPath: string, body?: unknown): Promise<Payment> {
  const order = await api.post<Checkout>(orderPath, body);
  const paid = await openCheckout(order);
  return api.post<Payment>(`/api/v1/orgs/${orgId}/payments/verify`, {
    razorpayOrderId: paid.razorpay_order_id ?? order.orderId,
    razorpayPaymentId: paid.razorpay_payment_id,
    razorpaySignature: paid.razorpay_signature,
  });
}

/** Shows a printable document (invoice, credit note) fetched with the caller's token, from a blob. */
export async function showPrintable(fetchHtml: () => Promise<string | undefined>): Promise<void> {
  const view = window.open("", "_blank");
  const html = await fetchHtml();
  if (html && view) {
    view.location.href = URL.createObjectURL(new Blob([html], { type: "text/html" }));
  } else {
    view?.close();
  }
}
