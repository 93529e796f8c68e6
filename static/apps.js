// apps.js: the copy buttons of the page that shows a new client secret. The page works
// without it (the values are in read-only fields to select); CSP allows only 'self'.
'use strict';
(function () {
  var status = document.querySelector('.copy-status');
  function say(msg) { if (status) status.textContent = msg; }
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    var field = document.getElementById(b.getAttribute('data-copy'));
    if (!field) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      var label = field.labels && field.labels[0] ? field.labels[0].textContent : 'Value';
      field.focus();
      field.select();
      var done = function () { say(label + ' copied.'); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          say('Copy failed: select the text and copy it yourself.');
        });
      } else if (document.execCommand && document.execCommand('copy')) {
        done();
      } else {
        say('Select the text and copy it yourself.');
      }
    });
  });
})();
