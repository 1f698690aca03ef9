// Draws the dashboard's delinquency-bucket chart from the portfolio overview the server embedded
// in the page (the JSON of GET /portfolio/overview). Nothing is fetched. A bar links to the list
// of its bucket's loans, as the table's links beside it do.
(function () {
  'use strict';
  var el = document.getElementById('portfolio-data');
  var canvas = document.getElementById('chart-buckets');
  if (!el || !canvas || typeof Chart === 'undefined') return;
  var data = JSON.parse(el.textContent);
  var buckets = data.delinquency || [];
  var labels = buckets.map(function (b) { return b.bucket; });
  var colours = { current: '#1e7b45', 'SMA-0': '#f2c14e', 'SMA-1': '#f78154', 'SMA-2': '#b4436c', NPA: '#b3261e' };
  var currencies = (data.by_currency || []).map(function (c) { return c.currency; });
  var money = currencies.length === 1 ? currencies[0] : 'all currencies';
  var open = function (i) { window.location.href = '/delinquency/' + encodeURIComponent(labels[i]); };
  new Chart(canvas, {
    type: 'bar',
    data: {
      labels: labels,
      datasets: [
        { label: 'Loans', data: buckets.map(function (b) { return b.count; }), yAxisID: 'y',
          backgroundColor: labels.map(function (l) { return colours[l] || '#7d8491'; }) },
        { label: 'Outstanding principal (' + money + ')', yAxisID: 'y1',
          data: buckets.map(function (b) { return Number(b.outstanding_principal); }),
          backgroundColor: 'rgba(31, 78, 121, 0.35)', borderColor: '#1f4e79', borderWidth: 1 }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: {
        y: { beginAtZero: true, position: 'left', title: { display: true, text: 'Loans' },
             ticks: { precision: 0 } },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false },
              title: { display: true, text: 'Outstanding (' + money + ')' } }
      },
      onClick: function (evt, elements) { if (elements.length) open(elements[0].index); },
      onHover: function (evt, elements) {
        canvas.style.cursor = elements.length ? 'pointer' : 'default';
      }
    }
  });
})();
