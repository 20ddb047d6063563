// Lists the customer's bills and asks the host for a payment intent: the app, not the
// mini-program, shows the payment to the customer and moves the money.
(function () {
  "use strict";
  var API = "https://api.utilitybills.example.com";
  // Shown when the biller cannot be reached (the host simulator has no network).
  var DEMO_BILLS = [
    { id: "ELEC-2024-11", kind: "Electricity", amount: "236.40", currency: "CNY", due: "2024-12-15" },
    { id: "WATER-2024-11", kind: "Water", amount: "58.20", currency: "CNY", due: "2024-12-20" },
    { id: "GAS-2024-11", kind: "Gas", amount: "91.75", currency: "CNY", due: "2024-12-22" }
  ];
  var list = document.getElementById("bills");
  var status = document.getElementById("status");

  function show(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
  }

  function loadBills() {
    return fetch(API + "/v1/bills").then(function (response) {
      if (!response.ok) throw new Error("biller answered " + response.status);
      return response.json();
    }).then(function (body) { return body.bills; }, function () { return DEMO_BILLS; });
  }

  function row(bill) {
    var item = document.createElement("li");
    var text = document.createElement("div");
    var title = document.createElement("div");
    title.textContent = bill.kind + " ";
    var amount = document.createElement("span");
    amount.className = "amount";
    amount.textContent = bill.amount + " " + bill.currency;
    title.appendChild(amount);
    var due = document.createElement("div");
    due.className = "due";
    due.textContent = "Due " + bill.due + " · " + bill.id;
    text.appendChild(title);
    text.appendChild(due);
    var pay = document.createElement("button");
    pay.type = "button";
    pay.textContent = "Pay";
    pay.addEventListener("click", function () { payBill(bill, pay); });
    item.appendChild(text);
    item.appendChild(pay);
    return item;
  }

  function payBill(bill, button) {
    button.disabled = true;
    show("Asking the app to pay " + bill.kind.toLowerCase() + "…");
    window.bridge.call("payment.request", {
      amount: bill.amount,
      currency: bill.currency,
      description: bill.kind + " bill " + bill.id
    }).then(function (intent) {
      show("Payment " + (intent.intentId || "") + " is " + (intent.status || "pending") + ": confirm it in the app.");
    }, function (error) {
      button.disabled = false;
      show("The payment was not started: " + (error.message || error.code), true);
    });
  }

  loadBills().then(function (bills) {
    list.textContent = "";
    bills.forEach(function (bill) { list.appendChild(row(bill)); });
    if (!bills.length) list.textContent = "No bills to pay.";
  });
})();
