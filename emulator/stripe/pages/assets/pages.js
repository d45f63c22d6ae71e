// billclock's pages: a little help with the card form, and no double submits.
document.addEventListener("DOMContentLoaded", () => {
  const card = document.getElementById("card");
  if (card) {
    card.addEventListener("input", () => {
      const digits = card.value.replace(/\D/g, "").slice(0, 19);
      card.value = digits.replace(/(.{4})/g, "$1 ").trim();
    });
  }
  const exp = document.getElementById("exp");
  if (exp) {
    exp.addEventListener("input", () => {
      const d = exp.value.replace(/\D/g, "").slice(0, 4);
      exp.value = d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : d;
    });
  }
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    });
  }
});
