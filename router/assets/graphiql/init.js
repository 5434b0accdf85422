// Starts GraphiQL against this router's /graphql, with the router's settings
// (/graphiql/settings.json): the example document it opens with, and in
// development mode the header that asks for query plans, shown in the
// "Query plan" pane. A `query` (and `variables`) in the page's URL opens in the
// editor instead, so links can carry an operation.
(function () {
  var h = React.createElement;

  // The plan of the last operation, and who to tell when it changes.
  var lastPlan = { text: null, listeners: [] };
  function showPlan(result) {
    var plan = result && result.extensions && result.extensions.queryPlan;
    if (!plan) return;
    lastPlan.text = plan.text;
    lastPlan.listeners.forEach(function (listener) { listener(); });
  }
  function subscribe(listener) {
    lastPlan.listeners.push(listener);
    return function () {
      lastPlan.listeners = lastPlan.listeners.filter(function (l) { return l !== listener; });
    };
  }
  function QueryPlan() {
    var text = React.useSyncExternalStore(subscribe, function () { return lastPlan.text; });
    return h('div', { className: 'tasktracker-query-plan' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Query plan'),
      text
        ? h('pre', { style: { whiteSpace: 'pre-wrap', fontSize: '12px' } }, text)
        : h('p', null, 'Run an operation to see how the router plans it across the subgraphs.'));
  }
  var queryPlanPlugin = {
    title: 'Query plan',
    icon: function () { return h('span', { 'aria-hidden': true, style: { fontWeight: 'bold' } }, 'QP'); },
    content: QueryPlan,
  };

  // Passes every result (single or incremental) through `showPlan`.
  function watchPlans(fetcher) {
    return function (params, options) {
      return Promise.resolve(fetcher(params, options)).then(function (result) {
        if (result && typeof result[Symbol.asyncIterator] === 'function') {
          return (async function* () {
            for await (var part of result) {
              showPlan(part);
              yield part;
            }
          })();
        }
        showPlan(result);
        return result;
      });
    };
  }

  function start(settings) {
    var params = new URLSearchParams(window.location.search);
    var headers = {};
    if (settings.queryPlanHeader) headers[settings.queryPlanHeader] = '1';
    var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql', headers: headers });
    var plugins = [GraphiQLPluginExplorer.explorerPlugin()];
    if (settings.queryPlanHeader) {
      fetcher = watchPlans(fetcher);
      plugins.push(queryPlanPlugin);
    }
    var props = { fetcher: fetcher, plugins: plugins, defaultEditorToolsVisibility: true };
    if (settings.defaultDocument) {
      props.defaultQuery = settings.defaultDocument;
      // The example explains the Authorization header: show where it goes.
      props.defaultEditorToolsVisibility = 'headers';
    }
    if (params.get('query')) {
      props.query = params.get('query');
    }
    if (params.get('variables')) {
      props.variables = params.get('variables');
    }
    ReactDOM.createRoot(document.getElementById('graphiql')).render(h(GraphiQL, props));
  }

  fetch('/graphiql/settings.json')
    .then(function (response) { return response.json(); })
    .catch(function () { return {}; })
    .then(start);
})();
