// Starts GraphiQL against this router's /graphql. A `query` (and `variables`)
// in the page's URL opens in the editor, so links can carry an operation.
(function () {
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var props = { fetcher: fetcher, defaultEditorToolsVisibility: true };
  if (params.get('query')) {
    props.query = params.get('query');
  }
  if (params.get('variables')) {
    props.variables = params.get('variables');
  }
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();
