// ModelBrowser front end (anywidget). Placeholder until the browser UI lands; same lifecycle
// and Markdown pipeline as chat.js.
import "./theme.css";
import "./markdown.css";
import "./models.css";
import { setMarkdown } from "./markdown.js";

const FALLBACK = "*Model browser not built yet.*";

export default {
  render({ model, el }) {
    const root = document.createElement("div");
    root.className = "onb-root onb-models";
    const body = document.createElement("div");
    body.className = "onb-md onb-models-body";
    root.append(body);
    el.replaceChildren(root);

    const update = () => setMarkdown(body, model.get("placeholder") || FALLBACK);
    update();
    model.on("change:placeholder", update);

    return () => {
      model.off("change:placeholder", update);
      root.remove();
    };
  },
};
