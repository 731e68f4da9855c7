/* The planner page's national coverage job (window.nuanxin.national): a file input the page draws itself (Dash has
   none), and the file posted as it is to the jobs API (no base64 through a callback); the job's id goes into the
   page's job store, whose callback then follows the job. */
(function () {
  "use strict";
  const national = {
    /* Draw the file input inside the picker box, once. */
    mount: function (id) {
      const box = document.getElementById(id);
      if (box && !box.querySelector("input[type=file]")) {
        const input = document.createElement("input");
        input.type = "file";
        input.accept = ".csv,.txt,.parquet,.geoparquet,.gpq,text/csv,application/vnd.apache.parquet";
        input.id = id + "-file";
        box.appendChild(input);
      }
      return window.dash_clientside.no_update;
    },
    /* Post the chosen file to url; the answer's job id (or its refusal) is set on the job store. */
    start: function (n, url, texts) {
      const dc = window.dash_clientside;
      const input = document.getElementById(texts._picker + "-file");
      const file = input && input.files && input.files[0];
      if (!file) {
        return texts.no_file;
      }
      if (!url) {
        return dc.no_update;
      }
      const put = function (data) { dc.set_props(texts._job, {data: data}); };
      const parquet = /\.(parquet|geoparquet|gpq)$/i.test(file.name);
      const type = parquet ? "application/vnd.apache.parquet" : "text/csv";
      fetch(url, {method: "POST", headers: {"Content-Type": type}, body: file, credentials: "same-origin"})
        .then(function (r) {
          return r.json().then(function (body) {
            if (r.ok) {
              put({id: body.id});
            } else {
              put({error: (body && body.error && body.error.message) || ("HTTP " + r.status)});
            }
          }, function () { put({error: "HTTP " + r.status}); });
        })
        .catch(function (err) { put({error: String(err)}); });
      return texts.uploading.replace("{name}", file.name);
    },
  };
  window.nuanxin = Object.assign({}, window.nuanxin, {national: national});
})();
