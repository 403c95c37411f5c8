// The demo shop's page script: plain fetch calls to the API on another
// origin (the agent adds the trace header and records each call), a cart in
// localStorage, and an autoplay mode in which the page shops by itself so a
// headless browser can walk through it.
(function () {
  'use strict';
  var body = document.body;
  var API = body.dataset.api;
  var page = body.dataset.page;
  var session = sessionStorage.getItem('shop-session') || (Math.random().toString(16).slice(2) + Date.now().toString(16));
  sessionStorage.setItem('shop-session', session);
  if (/[?&]autoplay=1/.test(location.search)) sessionStorage.setItem('autoplay', '1');
  var autoplay = sessionStorage.getItem('autoplay') === '1';

  function $(id) { return document.getElementById(id); }
  function money(c) { return '$' + (c / 100).toFixed(2); }
  function cart() { try { return JSON.parse(localStorage.getItem('cart') || '[]'); } catch (e) { return []; } }
  function saveCart(items) { localStorage.setItem('cart', JSON.stringify(items)); }
  function call(method, path, data) {
    var init = { method: method, headers: {} };
    if (data) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(data); }
    return fetch(API + path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    });
  }
  function later(f, min, max) { setTimeout(f, min + Math.random() * (max - min)); }
  function pick(a) { return a[Math.floor(Math.random() * a.length)]; }

  function home() {
    call('GET', '/api/products').then(function (r) {
      var ul = $('products');
      if (r.status !== 200) { ul.innerHTML = '<li>Products are unavailable (' + r.status + ').</li>'; return; }
      ul.innerHTML = '';
      r.body.forEach(function (p) {
        var li = document.createElement('li');
        li.innerHTML = '<a href="/product/' + encodeURIComponent(p.sku) + '"></a><div class="muted"></div>';
        li.firstChild.textContent = p.name;
        li.lastChild.textContent = money(p.priceCents);
        ul.appendChild(li);
      });
      if (autoplay) later(function () { location.href = pick(ul.querySelectorAll('a')).href; }, 1500, 3000);
    });
  }

  function product() {
    var sku = body.dataset.sku;
    call('GET', '/api/products/' + encodeURIComponent(sku)).then(function (r) {
      if (r.status !== 200) {
        $('product-name').textContent = 'Not available';
        if (autoplay) later(function () { location.href = '/'; }, 1000, 2000);
        return;
      }
      var p = r.body;
      $('product-name').textContent = p.name;
      $('product-price').textContent = money(p.priceCents);
      $('product-stock').textContent = p.stock + ' in stock';
      $('add').onclick = function () {
        var qty = parseInt($('qty').value, 10) || 1;
        call('POST', '/api/cart', { session: session, sku: sku, qty: qty }).then(function (a) {
          if (a.status !== 200) {
            $('add-result').textContent = a.body.error || ('failed: ' + a.status);
            if (autoplay) later(function () { location.href = '/'; }, 1000, 2000);
            return;
          }
          var items = cart(); items.push({ sku: sku, qty: qty, name: p.name, priceCents: p.priceCents }); saveCart(items);
          $('add-result').textContent = 'Added.';
          if (autoplay) later(function () { location.href = '/cart'; }, 800, 1500);
        });
      };
      if (autoplay) later(function () { Math.random() < 0.75 ? $('add').click() : (location.href = '/'); }, 1500, 3000);
    });
    call('GET', '/api/recommendations?sku=' + encodeURIComponent(sku)).then(function (r) {
      var ul = $('recommended');
      (r.body.recommended || []).forEach(function (s) {
        var li = document.createElement('li');
        li.innerHTML = '<a></a>';
        li.firstChild.href = '/product/' + encodeURIComponent(s);
        li.firstChild.textContent = s.replace(/-/g, ' ');
        ul.appendChild(li);
      });
    });
    // A widget that some product pages ship broken: a real uncaught error.
    if (autoplay && Math.random() < 0.15) later(function () { window.reviewWidget.render(sku); }, 300, 900);
  }

  function cartPage() {
    var items = cart();
    var ul = $('cart-items');
    if (items.length) ul.innerHTML = '';
    items.forEach(function (it) {
      var li = document.createElement('li');
      li.textContent = it.qty + ' × ' + it.name + ' — ' + money(it.qty * it.priceCents);
      ul.appendChild(li);
    });
    $('coupon-form').onsubmit = function (e) {
      e.preventDefault();
      call('POST', '/api/coupon', { session: session, code: $('coupon').value }).then(function (r) {
        $('coupon-result').textContent = r.status === 200 ? r.body.percentOff + '% off' : (r.body.error || r.status);
      });
    };
    if (autoplay) later(function () {
      $('coupon').value = pick(['WELCOME10', 'FREESHIP', 'SPRING15']);
      $('coupon-form').requestSubmit();
      later(function () { location.href = '/checkout'; }, 1000, 2000);
    }, 1000, 2000);
  }

  function checkout() {
    var items = cart();
    var ul = $('checkout-items');
    items.forEach(function (it) {
      var li = document.createElement('li');
      li.textContent = it.qty + ' × ' + it.name;
      ul.appendChild(li);
    });
    $('pay').onclick = function () {
      var order = 'o-' + Date.now().toString(36);
      call('POST', '/api/checkout', { session: session, order: order, items: items.map(function (it) { return { sku: it.sku, qty: it.qty }; }) }).then(function (r) {
        if (r.status === 200) {
          $('pay-result').textContent = 'Thank you! Order ' + order + ' is paid.';
          saveCart([]);
        } else {
          $('pay-result').textContent = 'Payment failed: ' + (r.body.error || r.status);
          // Surfaces in RUM as a js_error_event, next to the trace of the call.
          setTimeout(function () { throw new Error('checkout failed with HTTP ' + r.status); }, 0);
        }
        if (autoplay) later(function () { sessionStorage.removeItem('autoplay'); document.title = 'done'; }, 500, 1000);
      });
    };
    if (autoplay) later(function () { items.length ? $('pay').click() : (sessionStorage.removeItem('autoplay'), document.title = 'done'); }, 1500, 2500);
  }

  ({ home: home, product: product, cart: cartPage, checkout: checkout }[page] || function () {})();
})();
