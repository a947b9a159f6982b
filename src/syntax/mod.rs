//! Syntax: text to tokens to a tree with a span on every node.
//!
//! **Invariant:** parsing never fails and never panics. It always returns a
//! [`ast::File`] together with every syntax error it found; after an error it
//! resynchronises at the next field or declaration boundary.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use lexer::{Comment, CommentKind};
pub use parser::{parse, parse_with_comments};
