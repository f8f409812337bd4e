use pretty_assertions::assert_eq;
use switchyard_types::{ChatRequest, Message, Role};

use super::*;

/// SmolLM2-135M-Instruct's `tokenizer.chat_template`, verbatim from its GGUF.
const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        messages,
        ..ChatRequest::default()
    }
}

#[test]
fn smollm2_gets_its_default_system_prompt_when_none_is_given() {
    let template = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").expect("compiles");
    let prompt = template
        .render(&request(vec![Message::text(Role::User, "Hi")]))
        .expect("renders");
    assert_eq!(
        prompt,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn a_developer_message_is_the_system_prompt() {
    let template = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").expect("compiles");
    let prompt = template
        .render(&request(vec![
            Message::text(Role::Developer, "Be brief."),
            Message::text(Role::User, "Hi"),
        ]))
        .expect("renders");
    assert_eq!(
        prompt,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn gemma_turns_fold_the_system_prompt_into_the_first_user_turn() {
    let template = ChatTemplate::new(GEMMA_TURNS, "<bos>", "<eos>").expect("compiles");
    let prompt = template
        .render(&request(vec![
            Message::text(Role::System, "Be brief."),
            Message::text(Role::User, "Hi "),
            Message::text(Role::Assistant, "Hello."),
            Message::text(Role::User, "Capital of France?"),
        ]))
        .expect("renders");
    assert_eq!(
        prompt,
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n\
         <start_of_turn>model\nHello.<end_of_turn>\n\
         <start_of_turn>user\nCapital of France?<end_of_turn>\n<start_of_turn>model\n"
    );
}

#[test]
fn raise_exception_becomes_a_clear_error() {
    let source = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}";
    let template = ChatTemplate::new(source, "", "").expect("compiles");
    let error = template
        .render(&request(vec![Message::text(Role::Assistant, "x")]))
        .expect_err("rejected");
    assert_eq!(
        error.to_string(),
        "the chat template rejected the conversation: Conversations must start with a user message"
    );
}

#[test]
fn earlier_tool_calls_are_written_into_the_turn_when_the_template_ignores_them() {
    let template = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").expect("compiles");
    let call = Message {
        role: Role::Assistant,
        content: vec![switchyard_types::ContentBlock::ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        name: None,
        content_is_text: false,
        extra: Default::default(),
    };
    let prompt = template
        .render(&request(vec![
            Message::text(Role::System, "S"),
            Message::text(Role::User, "Weather in Paris?"),
            call,
        ]))
        .expect("renders");
    assert!(
        prompt.contains(
            "<|im_start|>assistant\n<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call><|im_end|>"
        ),
        "{prompt}"
    );
}
