// ChatWidget front end (anywidget). Placeholder until the chat UI lands: it renders the
// `placeholder` traitlet (if the Python side has one) as Markdown, to exercise the shared
// pipeline and the anywidget lifecycle: everything registered in render() is undone by the
// function it returns.
import "./theme.css";
import "./markdown.css";
import "./chat.css";
import { setMarkdown } from "./markdown.js";

const FALLBACK = "*Chat view not built yet.*";

export default {
  render({ model, el }) {
    const root = document.createElement("div");
    root.className = "onb-root onb-chat";
    const body = document.createElement("div");
    body.className = "onb-md onb-chat-body";
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
