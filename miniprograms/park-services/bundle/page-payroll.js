// Payroll information: opens the bank's enrolment journey.
(function () {
  var status = document.getElementById("status");
  document.getElementById("start").addEventListener("click", function () {
    // The bank runs the enrolment itself: the mini-program only asks the app to open the journey.
    window.bridge.call("journey.open", { journeyType: "payroll-enrolment" }).then(function () {
      park.show(status, "The bank's payroll enrolment is open in the app.");
    }, function (error) {
      park.show(status, "Could not open the enrolment: " + error.message, true);
    });
  });
})();
