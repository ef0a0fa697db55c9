import type { Checkout } from "./api/types";

/** What Razorpay Checkout hands the success handler. */
export interface CheckoutSuccess {
  razorpay_payment_id: string;
  razorpay_order_id?: string;
  razorpay_subscription_id?: string;
  razorpay_signature: string;
}

interface RazorpayCheckout {
  open(): void;
  on(event: "payment.failed", handler: (response: { error?: { description?: string } }) => void): void;
}

declare global {
  interface Window {
    Razorpay?: new (options: Record<string, unknown>) => RazorpayCheckout;
  }
}

const checkoutScript = "https://checkout.razorpay.com/v1/checkout.js";

/** Loads checkout.js once, and only when someone pays: no third-party script on other screens. */
function loadCheckout(): Promise<NonNullable<Window["Razorpay"]>> {
  if (window.Razorpay) {
    return Promise.resolve(window.Razorpay);
  }
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = checkoutScript;
    script.async = true;
    script.onload = () => (window.Razorpay ? resolve(window.Razorpay) : reject(new Error("Razorpay Checkout did not load.")));
    script.onerror = () => reject(new Error("Razorpay Checkout could not be loaded."));
    document.head.appendChild(script);
  });
}

/**
 * Opens Checkout with the options the API answered (an order, or a subscription with
 * `subscriptionId`); resolves with Checkout's success response, rejects when the payment fails or
 * the person closes Checkout.
 */
export async function openCheckout(options: Checkout | { keyId: string; subscriptionId: string; name?: string }): Promise<CheckoutSuccess> {
  const Razorpay = await loadCheckout();
  return new Promise((resolve, reject) => {
    const base = "orderId" in options
      ? {
          key: options.keyId, order_id: options.orderId, amount: options.amount, currency: options.currency,
          name: options.name, description: options.description,
          prefill: { name: options.prefill.name ?? undefined, email: options.prefill.email ?? undefined }, notes: options.notes,
        }
      : { key: options.keyId, subscription_id: options.subscriptionId, name: options.name ?? "RaptorFlow" };
    const checkout = new Razorpay({
      ...base,
      handler: (response: CheckoutSuccess) => resolve(response),
      modal: { ondismiss: () => reject(new Error("Checkout was closed before paying.")) },
    });
    checkout.on("payment.failed", (response) => reject(new Error(response.error?.description ?? "The payment failed.")));
    checkout.open();
  });
}
