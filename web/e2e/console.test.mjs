// The reference console in headless Chromium against the real app and Azurite. Steps run in
// order and share one org, as a person would use the console; screenshots go to e2e/artifacts/.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { artifactsDir, buildConsole, razorpayKeySecret, startStack } from "./harness.mjs";

const owner = { sub: "e2e-owner", email: "owner@example.com", name: "Olivia Owner" };
const invitee = { sub: "e2e-invitee", email: "ivan@example.com", name: "Ivan Invitee" };
let stack;
let ownerPage;
let orgId;
let apiKey;
let invitationLink;
let paymentId;

// Razorpay Checkout cannot be reached from the test: checkout.js is served by the test instead, a
// Checkout that "pays" at once and hands the handler what Razorpay would, signed with the app's
// test key secret (e2eSign, exposed below), and records the options it was opened with.
const checkoutStub = `
window.Razorpay = class {
  constructor(options) { this.options = options; window.e2eCheckoutOptions = options; }
  on() {}
  open() {
    const paymentId = "pay_e2e" + String(Date.now()).slice(-8);
    window.e2eSign(this.options.order_id, paymentId).then((signature) =>
      this.options.handler({ razorpay_order_id: this.options.order_id, razorpay_payment_id: paymentId, razorpay_signature: signature }));
  }
};`;

const shot = (page, name) => page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true });

async function signIn(page, user) {
  await page.getByLabel("User id").fill(user.sub);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Name").fill(user.name);
  await page.getByRole("button", { name: "Sign in as" }).click();
}

async function open(path) {
  await ownerPage.goto(`${stack.webUrl}/#/orgs/${orgId}/${path}`);
}

/** The problem box shows title, code and requestId; returns its text. */
async function problemText(page) {
  const problem = page.getByTestId("problem").first();
  await problem.waitFor();
  await problem.locator(".problem-request-id").waitFor();
  return problem.innerText();
}

before(async () => {
  let started = Date.now();
  buildConsole();
  console.log(`# console built in ${Date.now() - started} ms`);
  started = Date.now();
  stack = await startStack({ platformAdmin: owner.sub });
  console.log(`# Azurite, app and browser started in ${Date.now() - started} ms`);
  const context = await stack.browser.newContext({ viewport: { width: 1200, height: 900 } });
  ownerPage = await context.newPage();
  ownerPage.setDefaultTimeout(15_000);
  await ownerPage.exposeFunction("e2eSign", (orderId, paymentId) => createHmac("sha256", razorpayKeySecret).update(`${orderId}|${paymentId}`).digest("hex"));
  await ownerPage.route("https://checkout.razorpay.com/v1/checkout.js", (route) => route.fulfill({ contentType: "application/javascript", body: checkoutStub }));
});

// The page as each step left it, to see a failure.
afterEach(async (t) => {
  await ownerPage?.screenshot({ path: join(artifactsDir, `last-${(t?.name ?? "step").replace(/\W+/g, "-").slice(0, 40)}.png`), fullPage: true }).catch(() => {});
});

after(async () => {
  const started = Date.now();
  await stack?.stop();
  console.log(`# stopped in ${Date.now() - started} ms`);
});

test("The API answers the console's origin a CORS preflight that allows its headers", async () => {
  const response = await fetch(`${stack.apiUrl}/api/v1/me`, {
    method: "OPTIONS",
    headers: { Origin: stack.webUrl, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,idempotency-key" },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), stack.webUrl);
  assert.match(response.headers.get("access-control-allow-headers") ?? "", /idempotency-key/i);
});

test("A dev user signs in through the sign-in form shown because the dev issuer is on", async () => {
  await ownerPage.goto(stack.webUrl);
  await ownerPage.getByRole("form", { name: "Sign in as" }).waitFor();
  await shot(ownerPage, "01-sign-in");
  await signIn(ownerPage, owner);
  await ownerPage.getByRole("heading", { name: "Organizations", exact: true }).waitFor();
});

test("Create org form refuses an empty name before sending, then creates the org", async () => {
  await ownerPage.getByRole("button", { name: "Create" }).click();
  await ownerPage.getByText("Required, at most 200 characters.").waitFor();
  await shot(ownerPage, "02-orgs-validation");
  await ownerPage.getByLabel("Name").fill("Acme E2E");
  await ownerPage.getByLabel("Slug").fill(`acme-e2e-${Date.now()}`);
  await ownerPage.getByRole("button", { name: "Create" }).click();
  await ownerPage.waitForURL(/#\/orgs\/[^/]+\/members/);
  orgId = ownerPage.url().split("#/orgs/")[1].split("/")[0];
  await ownerPage.getByRole("cell", { name: /Olivia Owner/ }).waitFor();
  await shot(ownerPage, "03-members");
});

test("A second user accepts an invitation by its link and appears among the members", async () => {
  await open("invitations");
  await ownerPage.getByLabel("Email").fill(invitee.email);
  await ownerPage.getByRole("button", { name: "Create invitation" }).click();
  invitationLink = await ownerPage.getByTestId("invitation-link").innerText();
  await ownerPage.getByRole("cell", { name: invitee.email }).waitFor();
  await shot(ownerPage, "04-invitations");

  const context = await stack.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(invitationLink.replace(/^http:\/\/[^/]+/, stack.webUrl));
  await signIn(page, invitee);
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.getByText("You joined as member").waitFor();
  await shot(page, "05-accepted-phone");

  // The same link again is a problem: 410 invitation.used, shown with its code and requestId.
  await page.reload();
  await page.getByRole("button", { name: "Accept invitation" }).click();
  const text = await problemText(page);
  assert.match(text, /invitation\.used/);
  await shot(page, "06-accept-used-problem");
  await context.close();

  await open("members");
  await ownerPage.getByRole("cell", { name: /Ivan Invitee/ }).waitFor();
});

test("The owner changes the new member's role from the members screen", async () => {
  const patched = ownerPage.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/members/"));
  await ownerPage.getByLabel("Role of Ivan Invitee").selectOption("admin");
  assert.equal((await patched).status(), 200);
  await ownerPage.reload();
  assert.equal(await ownerPage.getByLabel("Role of Ivan Invitee").inputValue(), "admin");
});

test("An API key is created with capabilities and CIDRs, its secret shown once, and it calls the API", async () => {
  await open("api-keys");
  await ownerPage.getByRole("textbox", { name: /^Name/ }).fill("e2e key");
  await ownerPage.getByLabel("usage:write").check();
  await ownerPage.getByLabel("billing:read").check();
  await ownerPage.getByLabel("Allowed CIDRs").fill("127.0.0.0/8 ::1");
  await ownerPage.getByRole("button", { name: "Create key" }).click();
  apiKey = await ownerPage.getByTestId("api-key-secret").innerText();
  assert.match(apiKey, /^rf_live_[0-9a-z]{26}_[0-9a-z]{59}$/);
  await shot(ownerPage, "07-api-key-created");

  const org = await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}`, { headers: { "X-Api-Key": apiKey } });
  assert.equal(org.status, 200);
  const now = new Date().toISOString();
  const usage = await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}/usage-events`, {
    method: "POST",
    headers: { "X-Api-Key": apiKey, "Content-Type": "application/json" },
    body: JSON.stringify({ events: [1, 2, 3].map((n) => ({ id: `e2e-${n}`, meter: "e2e_calls", quantity: n * 10, timestamp: now })) }),
  });
  assert.equal(usage.status, 200);
  assert.equal((await usage.json()).accepted, 3);
});

test("Rolling the key shows a new secret once, and the old one keeps working for the overlap", async () => {
  await ownerPage.getByRole("button", { name: "I have stored it" }).click();
  const row = ownerPage.locator("tr", { hasText: "e2e key" });
  await row.getByRole("button", { name: "Roll" }).click();
  const rolled = await ownerPage.getByTestId("api-key-secret").innerText();
  assert.notEqual(rolled, apiKey);
  for (const key of [apiKey, rolled]) {
    const response = await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}`, { headers: { "X-Api-Key": key } });
    assert.equal(response.status, 200);
  }
  await shot(ownerPage, "07b-api-key-rolled");
});

test("The usage chart shows the rolled-up usage per meter", async () => {
  // The hourly rollup timer, invoked the way the Functions host invokes it (loopback only).
  const rollup = await fetch(`${stack.apiUrl}/RollupUsage`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Data: { timer: { IsPastDue: false } }, Metadata: {} }),
  });
  assert.equal(rollup.status, 200, await rollup.text());
  await open("usage");
  await ownerPage.getByLabel("Meter", { exact: true }).fill("e2e_calls");
  // The timer only enqueues one RollupOrgUsage per org; the app's queue poller rolls the org up a
  // moment later. The screen is opened once the API (asked with the test's key) shows the totals.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const usage = await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}/usage?meter=e2e_calls&granularity=day`, { headers: { "X-Api-Key": apiKey } });
    assert.equal(usage.status, 200);
    const body = await usage.json();
    if (body.data.some((point) => point.meter === "e2e_calls" && point.quantity > 0)) break;
    assert.ok(Date.now() < deadline, `usage never rolled up: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await ownerPage.getByRole("button", { name: "Show" }).click();
  await ownerPage.getByRole("img", { name: "e2e_calls per day" }).waitFor();
  await ownerPage.getByLabel("Granularity").selectOption("hour");
  await ownerPage.getByRole("img", { name: "e2e_calls per hour" }).waitFor();
  await shot(ownerPage, "08-usage");
});

test("The dashboard counts what the test created: members by role, the pending invitation, the active key", async () => {
  await open("invitations");
  await ownerPage.getByLabel("Email").fill("pending@example.com");
  await ownerPage.getByRole("button", { name: "Create invitation" }).click();
  await ownerPage.getByRole("cell", { name: "pending@example.com" }).waitFor();
  await open("dashboard");
  await ownerPage.getByRole("heading", { name: "Dashboard" }).waitFor();
  assert.equal(await ownerPage.getByTestId("stat-members").innerText(), "2");
  assert.equal(await ownerPage.getByTestId("stat-invitations").innerText(), "1");
  assert.equal(await ownerPage.getByTestId("stat-keys").innerText(), "1");
  // Olivia owns the org; Ivan was made admin above.
  assert.deepEqual((await ownerPage.getByTestId("members-by-role").locator("td").allInnerTexts()), ["1", "1", "0", "0"]);
  await shot(ownerPage, "17-dashboard");
});

test("A credit top-up orders through the API, opens Checkout with its options and has the API verify the signature", async () => {
  await open("credits");
  await ownerPage.getByRole("heading", { name: "Credits" }).waitFor();
  assert.equal(await ownerPage.evaluate(() => typeof window.Razorpay), "undefined", "checkout.js is loaded only when paying");
  await shot(ownerPage, "18-credits");
  const ordered = ownerPage.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/credits/checkout"));
  const verified = ownerPage.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/payments/verify"));
  await ownerPage.getByLabel("Amount (paise)").fill("50000");
  await ownerPage.getByRole("button", { name: "Top up through Razorpay" }).click();
  const order = await (await ordered).json();
  assert.equal((await ordered).status(), 200);
  assert.equal(order.amount, 50000);
  assert.equal(order.keyId, "rzp_e2e_key");
  const verify = await verified;
  assert.equal(verify.status(), 200, await verify.text());
  const options = await ownerPage.evaluate(() => window.e2eCheckoutOptions);
  assert.equal(options.key, "rzp_e2e_key");
  assert.equal(options.order_id, order.orderId);
  assert.equal(options.amount, 50000);
  assert.equal(options.currency, "INR");
  assert.equal(options.notes.purpose, "credit_topup");
  const sent = verify.request().postDataJSON();
  assert.equal(sent.razorpayOrderId, order.orderId);
  const payment = await verify.json();
  assert.ok(payment.verifiedAt);
  paymentId = payment.id;
  await ownerPage.getByText(`Payment ${paymentId} verified`).waitFor();
  await shot(ownerPage, "19-top-up-verified");
});

test("A refund the API refuses is shown with its code on the payment's refund form", async () => {
  await open("payments");
  await ownerPage.getByRole("button", { name: `Details of ${paymentId}` }).click();
  await ownerPage.getByRole("form", { name: "Refund" }).waitFor();
  await shot(ownerPage, "20-payment");
  await ownerPage.getByLabel("Reason").fill("e2e");
  await ownerPage.getByRole("button", { name: "Refund", exact: true }).click();
  // Verified, not yet captured (Razorpay's webhook has not come): nothing can be refunded.
  const text = await problemText(ownerPage);
  assert.match(text, /payment\.not_refundable/);
  await shot(ownerPage, "21-refund-problem");
});

test("An issued invoice shows on the invoices screen with its number, status and total, prints, and has its pay link", async () => {
  await open("invoices");
  await ownerPage.getByText("No invoices yet").waitFor();
  // On Pro (billed by the invoice) the month has a fee to invoice.
  await open("subscription");
  await ownerPage.getByRole("button", { name: "Move to Pro" }).click();
  await ownerPage.locator("li", { hasText: "Pro" }).getByText("Current plan").waitFor();
  // Invoices are issued by the monthly close; the development seam closes this month now, through the same issuer.
  const closed = await fetch(`${stack.apiUrl}/api/dev/orgs/${orgId}/close-period`, { method: "POST", headers: { Authorization: `Bearer ${await token(owner)}` } });
  assert.equal(closed.status, 200, await closed.clone().text());
  const invoice = await closed.json();
  assert.equal(invoice.status, "issued");
  assert.ok(invoice.totalMinor > 0);
  assert.match(invoice.paymentUrl, /^https:\/\/rzp\.io\/i\/plink_e2e/);

  await open("invoices");
  const row = ownerPage.locator("tr", { hasText: invoice.number });
  await row.locator(".badge", { hasText: "issued" }).waitFor();
  const total = await ownerPage.evaluate((minor) => new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" }).format(minor / 100), invoice.totalMinor);
  assert.equal(await row.locator('td[data-label="Total"]').innerText(), total);
  assert.equal(await row.getByTestId("pay-link").getAttribute("href"), invoice.paymentUrl);
  await shot(ownerPage, "09-invoices");

  const printable = ownerPage.context().waitForEvent("page");
  await row.getByRole("button", { name: "Printable invoice" }).click();
  const page = await printable;
  await page.getByText(invoice.number).first().waitFor();
  await page.getByRole("link", { name: invoice.paymentUrl }).waitFor();
  await shot(page, "09b-invoice-printable");
  await page.close();
});

test("Plan, credit notes, ledger, audit log, webhooks and the platform inbox render", async () => {
  await open("subscription");
  await ownerPage.getByText("Current plan").waitFor();
  await shot(ownerPage, "10-plan");
  await open("credit-notes");
  await ownerPage.getByText("No credit notes").waitFor();
  await shot(ownerPage, "22-credit-notes");
  await open("ledger");
  await ownerPage.getByRole("heading", { name: "Trial balance" }).waitFor();
  await shot(ownerPage, "11-ledger");
  await open("audit");
  await ownerPage.getByRole("cell", { name: "invitation.accepted" }).first().waitFor();
  await ownerPage.getByLabel("Action", { exact: true }).fill("org.created");
  await ownerPage.getByRole("button", { name: "Filter" }).click();
  await ownerPage.getByRole("cell", { name: "invitation.accepted" }).waitFor({ state: "detached" });
  await ownerPage.getByRole("cell", { name: "org.created" }).waitFor();
  await shot(ownerPage, "12-audit");
  await open("webhooks");
  await ownerPage.getByText("No endpoints.").waitFor();
  await shot(ownerPage, "13-webhooks");
  await ownerPage.goto(`${stack.webUrl}/#/ops/webhook-events`);
  await ownerPage.getByText("No events in this status.").waitFor();
  await shot(ownerPage, "14-ops-inbox");
});

test("Revoking the key stops it at once", async () => {
  await open("api-keys");
  const row = ownerPage.locator("tr", { hasText: "e2e key" });
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.locator(".key-status", { hasText: "revoked" }).waitFor();
  await shot(ownerPage, "15-api-key-revoked");
  const refused = await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}`, { headers: { "X-Api-Key": apiKey } });
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).code, "api_key.revoked");
});

test("A problem from the API is rendered with its title, code and requestId", async () => {
  await ownerPage.goto(`${stack.webUrl}/#/orgs`);
  const slug = (await (await fetch(`${stack.apiUrl}/api/v1/orgs/${orgId}`, { headers: { Authorization: `Bearer ${await token(owner)}` } })).json()).slug;
  await ownerPage.getByLabel("Name").fill("Acme again");
  await ownerPage.getByLabel("Slug").fill(slug);
  await ownerPage.getByRole("button", { name: "Create" }).click();
  const text = await problemText(ownerPage);
  assert.match(text, /org\.slug_taken/);
  assert.match(text, /requestId/);
  await shot(ownerPage, "16-problem");
});

async function token(user) {
  const response = await fetch(`${stack.apiUrl}/api/dev/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(user) });
  return (await response.json()).accessToken;
}
